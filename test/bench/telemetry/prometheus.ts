// Time from a Prometheus query round to the snapshot, for 100 routes × 3 regions.
//
// Debian's Prometheus scrapes (every second) three prom-client backends, one per region, run
// in a worker thread so that their scrapes do not share the measured event loop. Together
// they export the series of 100 routes: half as an Envoy's cluster stats of meshpilot's
// clusters, half as gRPC servers' A66 metrics (with a `service` label per route), with
// synthetic traffic. PrometheusSource runs the default templates (6 route-level queries per
// route, 600 per round, at most 8 in flight) into a real WindowStore.
//
// A round runs every route once within one decision interval (1 s here), each route starting
// at its phase in the interval, as the source's schedule does (schedule-phase.ts): 600 queries
// per second. For each route the figure is the time from the start of its round to
// `store.snapshot(key)` returning a snapshot whose every region holds that round's data.
// promSnapshotP99Ms is the p99 over all routes of all measured rounds (a warm-up round first
// is not counted). promSnapshotBurstP99Ms is the same with every route's round started at
// once (the first round after the operator starts or takes the lead). The rate window is 5 s: five scrapes, as 1 m is at
// Prometheus's default 15 s scrape interval, so each query touches as many samples as in
// production.
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Clock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { PrometheusSource } from '../../../operator/telemetry/prometheus/prometheus-source.ts';
import type { RouteTarget } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { clusterName } from '../../../operator/xds/names.ts';
import { phaseOf } from '../../../operator/telemetry/schedule-phase.ts';
import { quantile, round } from '../support/stats.ts';
import { PrometheusServer, type Workload } from '../../support/prometheus.ts';
import { BENCH_REGIONS, benchTarget } from './routes.ts';

const REGIONS = BENCH_REGIONS;
const ROUTES = 100;
const RATE_WINDOW_MS = 5_000;

export interface PrometheusBenchResult {
  promSnapshotP99Ms: number;
  promSnapshotP50Ms: number;
  /** p99 when every route's round starts at once. */
  promSnapshotBurstP99Ms: number;
  /** p50 of a round of one route while no other route queries. */
  promSnapshotAloneP50Ms: number;
  routes: number;
  regions: number;
  rounds: number;
  /** Route rounds whose snapshot did not hold the round's data for every region (not timed). */
  incomplete: number;
}

function log(message: string): void {
  process.stderr.write(`[bench prometheus] ${message}\n`);
}


/** Region `r`'s backend: Envoy cluster stats for the first half of the routes, gRPC metrics for the rest. */
function workloads(r: number): Record<string, Workload> {
  const out: Record<string, Workload> = {};
  for (let i = 0; i < ROUTES; i++) {
    const traffic = { rps: 5 + ((i + r) % 7), errorRate: ((i * 3 + r) % 10) / 100, latencyMs: 10 + ((i * 13 + r * 29) % 190) };
    const region = REGIONS[r]!;
    out[`route-${i}`] =
      i < ROUTES / 2
        ? { kind: 'envoy', cluster: clusterName(`bench/route-${i}`, region), active: (i * 7) % 100, maxRequests: 1024, ...traffic }
        : { kind: 'grpc', service: `route-${i}`, ...traffic };
  }
  return out;
}

/** Starts the backends in a worker thread; resolves with their addresses and the worker. */
async function startBackends(): Promise<{ worker: Worker; addresses: string[] }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(async (m) => {
      const backends = [];
      for (const w of workerData.workloads) backends.push(await m.MetricsBackend.start(w));
      parentPort.postMessage(backends.map((b) => b.address));
    }, (e) => { throw e; });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: { module: new URL('../../support/prometheus.ts', import.meta.url).href, workloads: REGIONS.map((_, r) => workloads(r)) },
  });
  const addresses = await new Promise<string[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`backend worker exited with code ${code}`)));
  });
  return { worker, addresses };
}

/** The source's own schedule is parked: rounds are started by the bench, so each one is timed. */
const benchClock: Clock = {
  now: () => Date.now(),
  sleep: (_ms, signal) => new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
};

export async function benchPrometheus(options: { quick: boolean }): Promise<PrometheusBenchResult> {
  const measuredRounds = options.quick ? 3 : 10;
  const { worker, addresses } = await startBackends();
  let prometheus: PrometheusServer | undefined;
  let source: PrometheusSource | undefined;
  try {
    prometheus = await PrometheusServer.start({ targets: addresses.map((address, r) => ({ address, labels: { region: REGIONS[r]! } })) });
    log(`prometheus at ${prometheus.url}, waiting for ${RATE_WINDOW_MS / 1000} s of scrapes of ${ROUTES} routes × ${REGIONS.length} regions`);
    await prometheus.waitForSeries('up == 1', REGIONS.length, 30_000);
    await prometheus.waitForSeries('count_over_time(up[30s]) >= 7', REGIONS.length, 30_000);

    const metrics = telemetryMetrics(new Registry());
    // Errors only: the gRPC half has no saturation by design, and says so at warn level.
    const logger = pino({ level: 'error' }, pino.destination(2));
    const store = new WindowStore({ clock: benchClock, metrics, logger, windowMs: 60_000 });
    source = new PrometheusSource({ sink: store, clock: benchClock, logger, metrics, defaultUrl: prometheus.url, windowMs: 60_000, timeoutMs: 10_000, rateWindowMs: RATE_WINDOW_MS });
    const targets = Array.from({ length: ROUTES }, (_, i) => benchTarget(i, { staleAfter: '30s' }, { decisionIntervalMs: 1_000, staleAfterMs: 30_000 }));
    for (const t of targets) {
      store.track(t);
      source.watch(t);
    }

    // Watching runs each route's warm-up range queries and a first round: let them finish.
    const deadline = Date.now() + 60_000;
    while (!targets.every((t) => store.snapshot(t.key)?.fresh)) {
      if (Date.now() > deadline) throw new Error('the routes had no fresh data 60 s after they were watched');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    let incomplete = 0;
    const measure = async (label: string, delayOf: (t: RouteTarget) => number): Promise<number[]> => {
     const times: number[] = [];
     for (let r = 0; r <= measuredRounds; r++) {
      // Let a scrape land between rounds, as between decisions.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const cpuBefore = process.cpuUsage();
      const roundTimes = await Promise.all(
        targets.map(async (t) => {
          await new Promise((resolve) => setTimeout(resolve, delayOf(t)));
          const started = performance.now();
          const report = await source!.pollOnce(t.key);
          const snapshot = store.snapshot(t.key);
          const elapsed = performance.now() - started;
          const atMs = report.samples[0]?.atMs;
          const complete =
            atMs !== undefined &&
            report.samples.length === REGIONS.length &&
            snapshot !== undefined &&
            snapshot.regions.every((reg) => reg.newestAgeMs !== null && snapshot.atMs - reg.newestAgeMs === atMs);
          return complete ? elapsed : null;
        }),
      );
      const done = roundTimes.filter((t): t is number => t !== null);
      if (r > 0) {
        times.push(...done);
        incomplete += roundTimes.length - done.length;
      }
      const cpu = process.cpuUsage(cpuBefore);
      log(
        `${label} round ${r}${r === 0 ? ' (warm-up)' : ''}: p50 ${round(quantile(done, 0.5))} ms, max ${round(Math.max(...done))} ms, ` +
          `${roundTimes.length - done.length} incomplete, process CPU (source and backend thread) ${round((cpu.user + cpu.system) / 1000)} ms`,
      );
     }
     return times;
    };
    const times = await measure('phased', (t) => phaseOf(t.key, t.decisionIntervalMs));
    const burst = await measure('burst', () => 0);
    // One route at a time: the cost of a round without the queue of a burst.
    const alone: number[] = [];
    for (const t of targets.slice(0, options.quick ? 10 : 40)) {
      const started = performance.now();
      await source.pollOnce(t.key);
      if (store.snapshot(t.key)) alone.push(performance.now() - started);
    }
    log(`one route alone: p50 ${round(quantile(alone, 0.5))} ms, p99 ${round(quantile(alone, 0.99))} ms`);
    const results = Object.fromEntries((await metrics.queries.get()).values.map((v) => [v.labels.result, v.value]));
    log(`queries by result: ${JSON.stringify(results)} (the gRPC half of the routes has no saturation: no_data)`);
    return {
      promSnapshotP99Ms: round(quantile(times, 0.99)) ?? Number.NaN,
      promSnapshotP50Ms: round(quantile(times, 0.5)) ?? Number.NaN,
      promSnapshotBurstP99Ms: round(quantile(burst, 0.99)) ?? Number.NaN,
      promSnapshotAloneP50Ms: round(quantile(alone, 0.5)) ?? Number.NaN,
      routes: ROUTES,
      regions: REGIONS.length,
      rounds: measuredRounds,
      incomplete,
    };
  } finally {
    await source?.close();
    await prometheus?.stop();
    await worker.terminate();
  }
}
