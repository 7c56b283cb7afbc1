// What a recorded trace does to the simulated world at one instant (trace-driven simulation):
// the route's total load is the recorded total request rate, and each region's recorded
// condition becomes the exogenous degradations a `brownout` / `errorBurst` event applies — a
// service slowdown of recorded p50 / medianLatencyMs (at least 1) and the recorded error rate
// over the region's base rate — on top of whatever the scenario's events do. The simulator's
// own queueing, retries and saturation then respond to the weights the policy under evaluation
// chooses, which the recording cannot know. Stateless (any instant can be asked, in any order) and allocation-free per call.
import type { Effects } from './events.ts';
import type { ScenarioRegion } from './scenario-schema.ts';
import { recordIndex, type RecordedTrace } from './trace.ts';

export class TraceTimeline {
  readonly #trace: RecordedTrace;
  readonly #median: Float64Array;
  readonly #baseError: Float64Array;

  /** `regions` are the scenario's, in the order of the trace's tracks. */
  constructor(trace: RecordedTrace, regions: readonly ScenarioRegion[]) {
    this.#trace = trace;
    this.#median = Float64Array.from(regions, (r) => r.medianLatencyMs);
    this.#baseError = Float64Array.from(regions, (r) => r.baseErrorRate);
  }

  /**
   * Folds the recorded condition at `tMs` (ms since the episode's start) into `fx`, which holds
   * the events' effects at that instant, and returns the recorded total request rate of the
   * route (requests per second; 0 when no region has a rate yet). Before the trace's first
   * record (the warm-up before t = 0) the first records hold.
   */
  apply(tMs: number, fx: Effects): number {
    const trace = this.#trace;
    const at = Math.max(trace.startMs + tMs, trace.firstMs);
    let total = 0;
    for (let r = 0; r < trace.tracks.length; r++) {
      const track = trace.tracks[r]!;
      const i = recordIndex(track, at);
      if (i < 0) continue;
      const rate = track.requestRate[i]!;
      if (!Number.isNaN(rate)) total += rate;
      const p50 = track.latencyP50Ms[i]!;
      if (!Number.isNaN(p50)) fx.serviceFactor[r]! *= Math.max(1, p50 / this.#median[r]!);
      const e = track.errorRate[i]!;
      const base = this.#baseError[r]!;
      // The added rate that, combined with the base rate as the simulator combines them, gives the recorded one.
      if (e > base) fx.addedErrorRate[r] = 1 - (1 - fx.addedErrorRate[r]!) * (1 - (e - base) / (1 - base));
    }
    return total;
  }
}
