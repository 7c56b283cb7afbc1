// What the scenario's events do to the world at one instant: per region, capacity and speed
// factors, added errors and latency, whether it is down (and how), whether its telemetry
// arrives; per home region, the client-load multiplier; per link between two regions, added
// round trip and partition. Event start times are jittered per
// episode from the seed, so a policy cannot learn a clock instead of the signals.
import { eventStartsSec } from './event-placement.ts';
import type { ScenarioEvent } from './scenario-schema.ts';

export const DOWN_NONE = 0;
export const DOWN_REFUSE = 1;
export const DOWN_BLACKHOLE = 2;

export const TELEMETRY_DELIVERED = 0;
export const TELEMETRY_STALE = 1;
export const TELEMETRY_MISSING = 2;

interface TimedEvent {
  event: ScenarioEvent;
  region: number;
  /** The other end of a linkFault. */
  peer: number;
  startMs: number;
  endMs: number;
}

/** Effects at one instant, per region index (written in place by EventTimeline.apply). */
export interface Effects {
  capacityFactor: Float64Array;
  serviceFactor: Float64Array;
  addedErrorRate: Float64Array;
  addedMs: Float64Array;
  down: Uint8Array;
  /** TELEMETRY_DELIVERED, TELEMETRY_STALE or TELEMETRY_MISSING. */
  stale: Uint8Array;
  clientFactor: Float64Array;
  /** Per (client home, serving region), h × n + r: round trip added by link faults, ms, and whether the link is partitioned. */
  linkAddedMs: Float64Array;
  linkDown: Uint8Array;
  /**
   * A fault on some of a region's pods only (an event's `fraction` below 1): the share of tries
   * that land on them, and how much slower those tries are (a service factor and added ms).
   * Partial events in one region hit the same pods: the largest share, factors multiplied.
   */
  partialShare: Float64Array;
  partialServiceFactor: Float64Array;
  partialAddedMs: Float64Array;
}

export function newEffects(n: number): Effects {
  return {
    capacityFactor: new Float64Array(n),
    serviceFactor: new Float64Array(n),
    addedErrorRate: new Float64Array(n),
    addedMs: new Float64Array(n),
    down: new Uint8Array(n),
    stale: new Uint8Array(n),
    clientFactor: new Float64Array(n),
    linkAddedMs: new Float64Array(n * n),
    linkDown: new Uint8Array(n * n),
    partialShare: new Float64Array(n),
    partialServiceFactor: new Float64Array(n),
    partialAddedMs: new Float64Array(n),
  };
}

/**
 * How much of an event's severity is in force `sinceMs` after it began: it grows linearly
 * over `rampSec` (a creeping degradation: a leak, a filling disk), at once without a ramp.
 */
function rising(rampSec: number, sinceMs: number): number {
  return rampSec > 0 ? Math.min(1, sinceMs / (rampSec * 1000)) : 1;
}

/** Marks `share` of region `r`'s tries as landing on affected pods (the largest share of the partial events in force). */
function partial(fx: Effects, r: number, share: number): void {
  fx.partialShare[r] = Math.max(fx.partialShare[r]!, share);
}

export class EventTimeline {
  readonly #events: TimedEvent[];

  /** `uniform` draws the jitter; `regionIndex` maps names (validated to exist) to indices. */
  constructor(events: readonly ScenarioEvent[], regionIndex: ReadonlyMap<string, number>, uniform: () => number) {
    // One draw per event in scenario order, whatever the placement, so adding `after` to one
    // event does not change another's jitter.
    const jitter = events.map((event) => (uniform() * 2 - 1) * event.startJitterSec);
    const starts = eventStartsSec(events, (i) => jitter[i]!);
    this.#events = events.map((event, i) => {
      const startMs = starts[i]! * 1000;
      const peer = event.kind === 'linkFault' ? regionIndex.get(event.peer)! : -1;
      return { event, region: regionIndex.get(event.region)!, peer, startMs, endMs: startMs + event.durationSec * 1000 };
    });
  }

  /** Start of each event in this episode, ms (after jitter), in scenario order. */
  get startsMs(): number[] {
    return this.#events.map((e) => e.startMs);
  }

  /** Fills `fx` with the effects in force at `tMs`. */
  apply(tMs: number, fx: Effects): void {
    fx.capacityFactor.fill(1);
    fx.serviceFactor.fill(1);
    fx.addedErrorRate.fill(0);
    fx.addedMs.fill(0);
    fx.down.fill(DOWN_NONE);
    fx.stale.fill(0);
    fx.clientFactor.fill(1);
    fx.linkAddedMs.fill(0);
    fx.linkDown.fill(0);
    fx.partialShare.fill(0);
    fx.partialServiceFactor.fill(1);
    fx.partialAddedMs.fill(0);
    const n = fx.down.length;
    for (const t of this.#events) {
      if (tMs < t.startMs || tMs >= t.endMs) continue;
      const r = t.region;
      const e = t.event;
      switch (e.kind) {
        case 'brownout': {
          const k = rising(e.rampSec, tMs - t.startMs);
          // At full severity the factors themselves, to the last bit (1 - (1 - 0.3) is not 0.3).
          const capacity = k === 1 ? e.capacityFactor : 1 - (1 - e.capacityFactor) * k;
          const slower = k === 1 ? e.latencyFactor : 1 + (e.latencyFactor - 1) * k;
          if (e.fraction === 1) {
            fx.capacityFactor[r]! *= capacity;
            fx.serviceFactor[r]! *= slower;
          } else {
            // The affected pods lose their share of capacity; their slowness is the slow component.
            fx.capacityFactor[r]! *= 1 - e.fraction * (1 - capacity);
            partial(fx, r, e.fraction);
            fx.partialServiceFactor[r]! *= slower;
          }
          fx.addedErrorRate[r] = 1 - (1 - fx.addedErrorRate[r]!) * (1 - e.fraction * e.errorRate * k);
          break;
        }
        case 'errorBurst':
          fx.addedErrorRate[r] = 1 - (1 - fx.addedErrorRate[r]!) * (1 - e.fraction * e.errorRate * rising(e.rampSec, tMs - t.startMs));
          break;
        case 'latencySpike': {
          const added = e.addedMs * rising(e.rampSec, tMs - t.startMs);
          if (e.fraction === 1) fx.addedMs[r]! += added;
          else {
            partial(fx, r, e.fraction);
            fx.partialAddedMs[r]! += added;
          }
          break;
        }
        case 'outage':
          fx.down[r] = Math.max(fx.down[r]!, e.mode === 'blackhole' ? DOWN_BLACKHOLE : DOWN_REFUSE);
          break;
        case 'flap': {
          const phaseMs = (tMs - t.startMs) % (e.periodSec * 1000);
          if (phaseMs < e.downSec * 1000) fx.down[r] = Math.max(fx.down[r]!, e.mode === 'blackhole' ? DOWN_BLACKHOLE : DOWN_REFUSE);
          break;
        }
        case 'flashCrowd': {
          const rampMs = e.rampSec * 1000;
          const ramp = rampMs > 0 ? Math.min(1, (tMs - t.startMs) / rampMs, (t.endMs - tMs) / rampMs) : 1;
          fx.clientFactor[r]! *= 1 + (e.factor - 1) * ramp;
          break;
        }
        case 'linkFault':
          // Both directions: clients homed at either end, served at the other.
          for (const i of [r * n + t.peer, t.peer * n + r]) {
            fx.linkAddedMs[i]! += e.addedRttMs;
            if (e.partition) fx.linkDown[i] = 1;
          }
          break;
        case 'staleTelemetry':
          fx.stale[r] = Math.max(fx.stale[r]!, e.mode === 'missing' ? TELEMETRY_MISSING : TELEMETRY_STALE);
          break;
      }
    }
  }
}
