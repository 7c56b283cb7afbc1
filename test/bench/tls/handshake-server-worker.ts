// Child process running a TLS server under one profile through meshpilot's own listener
// (tls/tls-listener.ts, the one the xDS channel uses), alone, so that the server's half of
// each handshake runs on its own core and event loop. Each connection is closed as soon as
// its handshake completes. Driven by tls.bench.ts over IPC: start → handshakes → shutdown.
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { createLogger } from '../../../operator/process/logger.ts';
import type { TlsProfile } from '../../../operator/tls/profiles.ts';
import { TlsListener } from '../../../operator/tls/tls-listener.ts';
import { serveWorker } from '../support/workers.ts';
import { serverFiles } from '../xds/bench-tls.ts';

let listener: TlsListener | undefined;
const registry = new Registry();

serveWorker(
  {
    async start(p: { profile: TlsProfile; dir: string }) {
      listener = await TlsListener.start({
        channel: 'bench',
        profile: p.profile,
        files: serverFiles(p.dir),
        prefix: 'bench',
        host: '127.0.0.1',
        port: 0,
        onConnection: (socket) => socket.end(),
        clock: systemClock,
        logger: createLogger('error', 2),
        registry,
      });
      return { port: listener.port };
    },

    /** The handshakes counted so far, by group and result. */
    async handshakes() {
      const metric = await registry.getSingleMetric('meshpilot_tls_handshakes_total')?.get();
      return (metric?.values ?? []).map((v) => ({ ...v.labels, count: v.value }));
    },
  },
  () => listener?.close(),
);
