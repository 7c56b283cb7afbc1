// The Istio-like baseline: static spec weights, outlier ejection and priority failover, the
// way a DestinationRule with outlierDetection and locality failover behaves, at region level.
// A region is ejected when it fails its health check or its error rate crosses the threshold
// (region-level stand-in for consecutive5xx: five 5xx in a row among hundreds of requests a
// second happen at error rates around 10-20 %); it stays out for baseEjectionTime × the
// number of times it was ejected, a count that decays by one for each base ejection time it
// stays in. With every primary region out, traffic goes to the next priority group. Retries
// and per-try timeout stay at the spec's static values. It reads only the observation.
import type { PolicyAction, RouteObservation } from '../../operator/policy/features.ts';
import type { Baseline, RouteView } from '../policy.ts';
import { specRetries } from '../sim/route-view.ts';
import { failoverWeights } from './failover-groups.ts';

export interface IstioOptions {
  /** Error rate at which a region is ejected (default 0.15). */
  ejectErrorRate?: number;
  /** First ejection time, ms (default 30 s, the CRD's baseEjectionTime). */
  baseEjectionMs?: number;
}

export interface IstioState {
  route: RouteView;
  nowMs: number;
  ejectedUntilMs: number[];
  ejections: number[];
  /** From when the ejection count may next decay. */
  countAtMs: number[];
}

export function istioPolicy(options: IstioOptions = {}): Baseline<IstioState> {
  const threshold = options.ejectErrorRate ?? 0.15;
  const baseMs = options.baseEjectionMs ?? 30_000;
  return {
    name: 'istio',
    start(route: RouteView): IstioState {
      const n = route.destinations.length;
      return { route, nowMs: 0, ejectedUntilMs: new Array<number>(n).fill(-Infinity), ejections: new Array<number>(n).fill(0), countAtMs: new Array<number>(n).fill(0) };
    },
    decide(o: RouteObservation, s: IstioState): PolicyAction {
      s.nowMs += s.route.decisionIntervalMs;
      const available = o.regions.map((r, i) => {
        const out = s.nowMs < s.ejectedUntilMs[i]!;
        if (!out && s.ejections[i]! > 0 && s.nowMs - s.countAtMs[i]! >= baseMs) {
          s.ejections[i]!--;
          s.countAtMs[i] = s.nowMs;
        }
        const failing = r.healthy === false || (r.errorRate !== null && r.errorRate >= threshold && r.weightPercent > 0);
        if (failing && !out) {
          s.ejections[i]!++;
          s.ejectedUntilMs[i] = s.nowMs + baseMs * s.ejections[i]!;
          // The count decays only once the region has been back for a base ejection time.
          s.countAtMs[i] = s.ejectedUntilMs[i]!;
          return false;
        }
        return !out && r.healthy !== false;
      });
      return { weights: failoverWeights(s.route, available), ...specRetries(s.route) };
    },
  };
}
