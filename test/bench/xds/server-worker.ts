// Child process running the XdsServer under test, alone, so that its resident memory is its
// own and the client workers do not run on its event loop. Driven by xds.bench.ts over IPC:
// start (publish the initial intents of R routes) → memory → push(phase) … → shutdown.
// Started with --expose-gc so that `memory` measures after full collections.
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Registry } from 'prom-client';
import { createLogger } from '../../../operator/process/logger.ts';
import { StaticEndpointResolver } from '../../../operator/xds/endpoints.ts';
import { XdsServer } from '../../../operator/xds/server.ts';
import { serveWorker } from '../support/workers.ts';
import { benchEndpoints, benchIntent, type Change } from './intents.ts';
import { serverFiles, type BenchTls } from './bench-tls.ts';

let server: XdsServer | undefined;
let registry: Registry | undefined;
let routes = 0;
let change: Change = 'all';
let profiler: Session | undefined;
let cpuAtPush: NodeJS.CpuUsage | undefined;

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Bytes this process passed to write(2)-family calls: socket writes, here (logging is off). */
function writtenBytes(): number {
  const m = /^wchar:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function running(): XdsServer {
  if (!server) throw new Error('start first');
  return server;
}

serveWorker(
  {
    async start(p: { routes: number; change: Change; debounceMs?: number; logLevel?: string; tls?: BenchTls }) {
      routes = p.routes;
      change = p.change;
      registry = new Registry();
      server = await XdsServer.start({
        logger: createLogger(p.logLevel ?? 'warn', 2),
        registry,
        resolver: new StaticEndpointResolver(benchEndpoints(routes)),
        host: '127.0.0.1',
        port: 0,
        ...(p.debounceMs === undefined ? {} : { debounceMs: p.debounceMs }),
        ...(p.tls ? { tls: { profile: p.tls.profile, files: serverFiles(p.tls.dir) } } : {}),
      });
      const started = nowMs();
      await Promise.all(Array.from({ length: routes }, (_, r) => server!.publish(benchIntent(r, 0, change))));
      await server.flush();
      return { port: server.port, initialPublishMs: nowMs() - started };
    },

    async memory() {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('server worker needs --expose-gc');
      for (let i = 0; i < 3; i++) {
        gc();
        await sleep(100);
      }
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
    },

    /**
     * A new intent: publishes phase `phase` of every route (change 'all') or of route 0, as
     * one burst without awaiting between calls and without flush(), the way a reconciler would.
     * Returns the monotonic time (CLOCK_MONOTONIC, shared by all processes) before the first
     * publish call and after the last one resolved.
     */
    async push(p: { phase: number }) {
      const s = running();
      const written = writtenBytes();
      const cpu = process.cpuUsage();
      const t0 = nowMs();
      const count = change === 'all' ? routes : 1;
      const pending: Promise<void>[] = [];
      for (let r = 0; r < count; r++) pending.push(s.publish(benchIntent(r, p.phase, change)));
      await Promise.all(pending);
      const publishedMs = nowMs();
      cpuAtPush = cpu;
      return { t0Ms: t0, publishedMs, writtenBefore: written };
    },

    /** Socket bytes written and CPU time used since the last `push` began. */
    afterPush() {
      const cpu = process.cpuUsage(cpuAtPush);
      return { written: writtenBytes(), cpuMs: (cpu.user + cpu.system) / 1000 };
    },

    async profileStart() {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
      return {};
    },

    async profileStop(p: { path: string }) {
      if (!profiler) throw new Error('profileStart first');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(p.path, JSON.stringify(profile));
      return { path: p.path };
    },

    async metrics() {
      return { text: registry ? await registry.metrics() : '' };
    },
  },
  async () => {
    await server?.close();
  },
);
