// `npm run bench -- tls [--quick]`: what post-quantum key exchange costs.
//
//   handshakesPerSec  full TLS handshakes per second (fresh connection each, no resumption,
//                     ECDSA P-256 certificates, mTLS; done when the server, its side complete,
//                     closes the connection) against a server speaking each profile
//                     through meshpilot's TLS listener, in its own process; the client (this
//                     process, Node's default groups: it offers X25519MLKEM768 and X25519) keeps
//                     --concurrency handshakes in flight for --seconds per profile. The
//                     profiles run interleaved, --rounds times, and the median round counts.
//   hybridCost        1 − handshakesPerSec(pq-hybrid) / handshakesPerSec(classical): the share
//                     of classical handshake throughput the hybrid group costs.
//   xdsPushAckMs      the xDS bench's allAckedMs (a new weight for every route, to the last
//                     client's ACK) for --clients clients × --routes routes, over plaintext and
//                     over pq-hybrid mTLS, measured one after the other in this run.
// Goals (issue 14): hybridCost ≤ 0.15; xdsPushAckMs over pq-hybrid within 10% of plaintext.
//
// Flags: --seconds N (default 5; 2 with --quick)  --rounds N (3; 1)  --concurrency N (8)
//        --clients N (1000; 100)  --routes N (10)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { TLS_PROFILES, type TlsProfile } from '../../operator/tls/profiles.ts';
import type { BenchOptions, BenchResult } from './support/types.ts';
import { flagValue, median, round } from './support/stats.ts';
import { clientTlsOptions, writeBenchCertificates } from './xds/bench-tls.ts';
import { measureCell, type Settings } from './xds.bench.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SERVER_WORKER = join(here, 'tls', 'handshake-server-worker.ts');

const GOAL_HYBRID_COST = 0.15;
const GOAL_PUSH_ACK_RATIO = 1.1;

function intFlag(o: BenchOptions, name: string, full: number, quick: number): number {
  const v = flagValue(o.args, name);
  return v === undefined ? (o.quick ? quick : full) : Number(v);
}

/** Handshakes per second against 127.0.0.1:`port` for `seconds`, `concurrency` in flight. */
async function handshakeRate(port: number, dir: string, seconds: number, concurrency: number, signal: AbortSignal): Promise<{ perSec: number; failed: number }> {
  const options = { host: '127.0.0.1', port, servername: 'localhost', ...clientTlsOptions(dir) };
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  // A handshake counts once the server, having completed its side (the client's Finished and
  // certificate verified), closed the connection: the client's secureConnect comes earlier.
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      let secure = false;
      const socket = connect(options, () => (secure = true));
      socket.resume();
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (secure) done += 1;
        else failed += 1;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline && !signal.aborted) await one();
    }),
  );
  return { perSec: done / ((performance.now() - started) / 1000), failed };
}

export async function run(o: BenchOptions): Promise<BenchResult> {
  const seconds = intFlag(o, '--seconds', 5, 2);
  const rounds = intFlag(o, '--rounds', 3, 1);
  const concurrency = intFlag(o, '--concurrency', 8, 8);
  const clients = intFlag(o, '--clients', 1000, 100);
  const routes = intFlag(o, '--routes', 10, 10);
  const dir = mkdtempSync(join(tmpdir(), 'meshpilot-bench-tls-'));
  try {
    writeBenchCertificates(dir);
    const servers = new Map<TlsProfile, { port: number; stop: () => Promise<void>; counts: () => Promise<unknown> }>();
    for (const profile of TLS_PROFILES) {
      const w = o.workers.spawn(`tls-${profile}`, SERVER_WORKER);
      const { port } = await w.call<{ port: number }>('start', { profile, dir });
      servers.set(profile, { port, stop: async () => void (await w.stop(5_000)), counts: () => w.call('handshakes') });
    }
    const perRound: Record<TlsProfile, number[]> = { classical: [], 'pq-hybrid': [], 'pq-only': [] };
    let failed = 0;
    for (let r = 0; r < rounds; r++) {
      for (const profile of TLS_PROFILES) {
        o.signal.throwIfAborted();
        const rate = await handshakeRate(servers.get(profile)!.port, dir, seconds, concurrency, o.signal);
        perRound[profile].push(rate.perSec);
        failed += rate.failed;
        o.log(`tls: round ${r + 1}/${rounds} ${profile}: ${rate.perSec.toFixed(0)} handshakes/s`);
      }
    }
    const groups: Record<string, unknown> = {};
    for (const [profile, s] of servers) {
      groups[profile] = await s.counts();
      await s.stop();
    }
    const handshakesPerSec = Object.fromEntries(TLS_PROFILES.map((p) => [p, Math.round(median(perRound[p]))])) as Record<TlsProfile, number>;
    const hybridCost = round(1 - handshakesPerSec['pq-hybrid'] / handshakesPerSec.classical, 3);

    const settings: Settings = { pushes: o.quick ? 1 : 3, pushesGiven: true, workers: 2, concurrency: 100, change: 'all', debounceMs: undefined, profileDir: undefined };
    const cell = { clients, routes };
    o.log(`tls: xDS push-to-ACK, ${clients} clients × ${routes} routes, plaintext`);
    const plain = await measureCell(o, cell, settings);
    o.log(`tls: xDS push-to-ACK, ${clients} clients × ${routes} routes, pq-hybrid mTLS`);
    const hybrid = await measureCell(o, cell, { ...settings, tls: { profile: 'pq-hybrid', dir } });
    const xdsPushAckMs = { plaintext: plain.allAckedMs as number | null, 'pq-hybrid': hybrid.allAckedMs as number | null };
    const ratio = xdsPushAckMs.plaintext && xdsPushAckMs['pq-hybrid'] ? round(xdsPushAckMs['pq-hybrid'] / xdsPushAckMs.plaintext, 3) : null;

    return {
      bench: 'tls',
      handshakesPerSec,
      hybridCost,
      xdsPushAckMs,
      results: [
        { handshakesPerSecByRound: perRound, failedHandshakes: failed, serverHandshakesByGroup: groups },
        { xds: 'plaintext', ...plain },
        { xds: 'pq-hybrid mTLS', ...hybrid },
      ],
      goals: [
        { hybridCostAtMost: GOAL_HYBRID_COST, hybridCost, met: hybridCost !== null && hybridCost <= GOAL_HYBRID_COST },
        { pushAckRatioAtMost: GOAL_PUSH_ACK_RATIO, ratio, met: ratio !== null && ratio <= GOAL_PUSH_ACK_RATIO },
      ],
      setup: { seconds, rounds, concurrency, clients, routes, node: process.version, openssl: process.versions.openssl, cpus: (await import('node:os')).availableParallelism() },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
