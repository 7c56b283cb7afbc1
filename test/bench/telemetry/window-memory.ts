// Memory per (route, region) window: the retained heap of a WindowStore holding `routes` × 3
// windows after they were filled the way each kind of source fills them, divided by the
// number of windows. Two fillings: Kafka request events in every slot of the window (6
// latency sketches per window: the worst case) and Prometheus-style samples only (history
// rings, no sketches).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { RequestObservation } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { BENCH_REGIONS, benchTarget } from './routes.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const REGIONS = BENCH_REGIONS;

function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}


export interface WindowMemory {
  bytesPerWindow: number;
  bytesPerWindowSamplesOnly: number;
  windows: number;
  eventsPerWindow: number;
}

/** Latencies spread over two decades, as a real service's are (a few ms to a few hundred). */
function latency(i: number): number {
  return 2 * Math.exp(((i * 7919) % 1000) / 200);
}

function measure(routes: number, fill: (store: WindowStore, clock: ManualClock) => void): number {
  const clock = new ManualClock(Date.parse('2026-11-24T00:00:00Z'));
  const before = settledHeap();
  const store = new WindowStore({ clock, metrics: telemetryMetrics(new Registry()) });
  for (let i = 0; i < routes; i++) store.track(benchTarget(i, { staleAfter: '60s' }, { decisionIntervalMs: 10_000, staleAfterMs: 60_000 }));
  fill(store, clock);
  const after = settledHeap();
  // Keep the store reachable until measured.
  if (store.tracked().length !== routes) throw new Error('store lost routes');
  return (after - before) / (routes * REGIONS.length);
}

export function benchWindowMemory(options: { quick: boolean }): WindowMemory {
  const routes = options.quick ? 200 : 1000;
  const eventsPerSlot = 100;
  const bytesPerWindow = measure(routes, (store, clock) => {
    // 6 slots of 10 s, each with 100 requests per window.
    for (let slot = 0; slot < 6; slot++) {
      const batch: RequestObservation[] = [];
      for (let i = 0; i < routes; i++) {
        for (const region of REGIONS) {
          for (let e = 0; e < eventsPerSlot; e++) {
            batch.push({ route: `bench/route-${i}`, region, atMs: clock.now(), latencyMs: latency(e + slot), error: e % 100 === 0 });
          }
        }
      }
      store.recordRequests('kafka', batch);
      void clock.advance(10_000);
    }
  });
  const bytesPerWindowSamplesOnly = measure(routes, (store, clock) => {
    for (let point = 0; point < 32; point++) {
      for (let i = 0; i < routes; i++) {
        for (const region of REGIONS) {
          store.recordSample({
            route: `bench/route-${i}`,
            region,
            atMs: clock.now(),
            source: 'prometheus',
            values: { requestRate: 100 + point, errorRate: 0.01, latencyP50: 12, latencyP90: 40, latencyP99: 90, saturation: 0.4 },
          });
        }
      }
      void clock.advance(1000);
    }
  });
  return { bytesPerWindow: Math.round(bytesPerWindow), bytesPerWindowSamplesOnly: Math.round(bytesPerWindowSamplesOnly), windows: routes * REGIONS.length, eventsPerWindow: 6 * eventsPerSlot };
}
