// Proof on the wire: tshark (Debian's, 4.0) captures loopback while a client handshakes with
// meshpilot's TLS listener under each profile, and the ServerHello's key_share says which
// group was used: 0x11ec (X25519MLKEM768; tshark 4.0 does not name it) for pq-hybrid and
// pq-only, 0x001d (X25519) for classical. A pq-only server answers a client that offers only
// X25519 with alert 40 (handshake_failure). Capturing needs root and tshark: where either is
// missing the test fails saying so; it never passes without a capture.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { connect as netConnect, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { issueCertificate } from '../../../operator/tls/certificate-issuer.ts';
import type { TlsProfile } from '../../../operator/tls/profiles.ts';
import { TlsListener } from '../../../operator/tls/tls-listener.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshpilot-wire-'));
const serving = issueCertificate({ commonName: 'meshpilot-wire', sans: ['localhost', '127.0.0.1'], ca: true });
writeFileSync(join(dir, 'tls.crt'), serving.cert);
writeFileSync(join(dir, 'tls.key'), serving.key);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  /** The key_share group of each ServerHello (and a HelloRetryRequest's selected group), as tshark prints it. */
  serverGroups: string[];
  /** TLS alert descriptions. */
  alerts: string[];
}

function captureUsable(): void {
  const which = spawnSync('tshark', ['--version']);
  if (which.error || which.status !== 0) throw new Error('tshark is not installed: run test/support/provision.sh (apt-get install tshark); this test cannot pass without a capture');
  if (process.getuid?.() !== 0) throw new Error('capturing loopback needs root: run the tests as root (CI does); this test cannot pass without a capture');
}

/** A TCP port nothing answers TLS on: connections to it mark points in the capture. */
async function markerPort(): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

interface Capture {
  /** Resolves once a connection to the marker port made now has been captured and printed. */
  mark(): Promise<void>;
  /** Stops the capture; what it saw of the TLS port. */
  stop(): Promise<Seen>;
}

/**
 * Starts tshark on loopback for `port` (decoded as TLS) and `marker`; resolves once a marker
 * connection shows up in its output, so that nothing sent afterwards can be missed.
 */
async function startCapture(port: number, marker: number): Promise<Capture> {
  const child = spawn(
    'tshark',
    ['-i', 'lo', '-f', `tcp port ${port} or tcp port ${marker}`, '-d', `tcp.port==${port},tls`, '-l', '-T', 'fields', '-E', 'separator=|',
      '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.type', '-e', 'tls.handshake.extensions_key_share_group', '-e', 'tls.handshake.extensions_key_share_selected_group', '-e', 'tls.alert_message.desc'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let exited = false;
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const rows = () => out.split('\n').filter(Boolean).map((l) => l.split('|'));
  // A marker connection is known by its own source port: rows of an earlier marker that
  // tshark prints late cannot be taken for this one (they once were, and tshark was stopped
  // before it printed the handshake that came between).
  const printed = (localPort: number) => rows().some((r) => r[0] === String(localPort) && r[1] === String(marker));
  const mark = async (): Promise<void> => {
    for (;;) {
      if (exited) throw new Error(`tshark exited before capturing: ${err.trim()}`);
      const localPort = await new Promise<number>((resolve) => {
        const s = netConnect(marker, '127.0.0.1', () => {
          resolve(s.localPort!);
          s.end();
        });
        s.on('error', () => resolve(-1));
      });
      // Until the capture runs a marker may go unseen: then the next one is sent.
      for (let i = 0; i < 40 && localPort > 0 && !printed(localPort); i++) await new Promise((r) => setTimeout(r, 50));
      if (localPort > 0 && printed(localPort)) return;
    }
  };
  await mark();
  return {
    mark,
    stop: async () => {
      child.kill('SIGINT');
      await exit;
      const tls = rows().filter((r) => r[0] !== String(marker) && r[1] !== String(marker)).map((r) => r.slice(1));
      return {
        serverGroups: tls.filter((r) => (r[1] ?? '').split(',').includes('2')).flatMap((r) => [r[2], r[3]].filter((g): g is string => Boolean(g))),
        alerts: tls.map((r) => r[4]).filter((a): a is string => Boolean(a)),
      };
    },
  };
}

/** One handshake with a `profile` server from a client offering `groups` (undefined: Node's defaults); what tshark saw. */
async function onTheWire(profile: TlsProfile, groups?: string): Promise<Seen & { handshake: 'ok' | 'refused' }> {
  const listener = await TlsListener.start({
    channel: 'wire',
    profile,
    files: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
    prefix: 'wire',
    host: '127.0.0.1',
    port: 0,
    onConnection: (s) => s.end(),
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });
  try {
    const marker = await markerPort();
    const capture = await startCapture(listener.port, marker.port);
    const handshake = await new Promise<'ok' | 'refused'>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: listener.port, servername: 'localhost', ca: serving.cert, ...(groups ? { ecdhCurve: groups } : {}) }, () => {
        resolve('ok');
        s.destroy();
      });
      s.on('error', () => resolve('refused'));
    });
    // A marker sent after the handshake and printed means every packet of it was printed too.
    await capture.mark();
    marker.close();
    return { handshake, ...(await capture.stop()) };
  } finally {
    listener.close();
  }
}

/** tshark prints the groups in decimal: 4588 = 0x11ec, 29 = 0x001d. */
const HYBRID = String(0x11ec);
const X25519 = String(0x001d);

describe('TLS profiles, proven on the wire with tshark', () => {
  it('the capture can run here', () => {
    captureUsable();
  });

  it('classical: the ServerHello key share is X25519 (0x001d)', async () => {
    const seen = await onTheWire('classical');
    expect(seen).toMatchObject({ handshake: 'ok', alerts: [] });
    expect(seen.serverGroups).toEqual([X25519]);
  }, 30_000);

  it('pq-hybrid: X25519MLKEM768 (0x11ec) with a default client, and asked for even from a client whose first share is X25519', async () => {
    expect(await onTheWire('pq-hybrid')).toMatchObject({ handshake: 'ok', serverGroups: [HYBRID], alerts: [] });
    // The server asks for the hybrid share (HelloRetryRequest: selected_group) and gets it.
    const retried = await onTheWire('pq-hybrid', 'X25519:X25519MLKEM768');
    expect(retried.handshake).toBe('ok');
    expect(retried.serverGroups).toEqual([HYBRID, HYBRID]);
  }, 30_000);

  it('pq-only: X25519MLKEM768 (0x11ec), and alert 40 to a client that offers only X25519', async () => {
    expect(await onTheWire('pq-only')).toMatchObject({ handshake: 'ok', serverGroups: [HYBRID], alerts: [] });
    const refused = await onTheWire('pq-only', 'X25519');
    expect(refused).toMatchObject({ handshake: 'refused', serverGroups: [], alerts: ['40'] });
  }, 30_000);
});
