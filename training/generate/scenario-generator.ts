// Random meshes for training and for honest evaluation: `generateScenario(seed, index)` writes
// one scenario document as a user's mesh might be: 2 to 8 regions placed on a map (round trips
// from the geography), capacities and costs, objectives from tight to loose, demand with or
// without a daily shape, telemetry with or without health checks, and either a calm period or
// one to three incidents from the simulator's event library at random, possibly overlapping,
// times. Deterministic: the same (seed, index) gives the same document, byte for byte, on every
// machine (one seeded stream, no Math.random, no clock).
import { prng } from '../../operator/api/random.ts';
import { MAX_REGIONS } from '../../operator/policy/spec.ts';
import { EVENT_KINDS } from '../sim/scenario-schema.ts';
import { PLACES, roundTripMs } from './geography.ts';

type Doc = Record<string, unknown>;

/** A seeded draw helper over one stream. */
class Draw {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }
  unit(): number {
    return this.#next();
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.#next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.range(lo, hi + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Two decimals: files stay readable and their bytes do not depend on float printing of long tails. */
const r2 = (x: number) => Math.round(x * 100) / 100;

export interface GeneratedScenario {
  /** The file name to write it under. */
  file: string;
  /** The scenario document (validated by the loader when read). */
  doc: Doc;
  /** True when it has no incident: what a route sees most of the time. */
  calm: boolean;
}

function event(d: Draw, kind: (typeof EVENT_KINDS)[number], region: string, durationSec: number): Doc {
  const startSec = d.int(Math.round(durationSec * 0.1), Math.round(durationSec * 0.7));
  const length = d.int(30, Math.max(60, Math.round(durationSec * 0.35)));
  const base: Doc = { kind, region, startSec, durationSec: length };
  switch (kind) {
    case 'brownout':
      return { ...base, capacityFactor: r2(d.range(0.2, 0.8)), latencyFactor: r2(d.range(1, 4)), errorRate: r2(d.chance(0.5) ? d.range(0, 0.2) : 0) };
    case 'outage':
      return { ...base, mode: d.pick(['refuse', 'blackhole'] as const) };
    case 'latencySpike':
      return { ...base, addedMs: d.int(20, 500) };
    case 'errorBurst':
      return { ...base, errorRate: r2(d.range(0.05, 0.6)) };
    case 'flashCrowd':
      return { ...base, factor: r2(d.range(1.5, 3)), rampSec: d.int(0, 120) };
    case 'flap': {
      const periodSec = d.int(30, 120);
      return { ...base, periodSec, downSec: d.int(5, periodSec - 5), mode: d.pick(['refuse', 'blackhole'] as const) };
    }
    case 'staleTelemetry':
      return { ...base, mode: d.pick(['stale', 'missing'] as const) };
  }
}

/** Scenario `index` of the set drawn from `seed`. */
export function generateScenario(seed: number, index: number): GeneratedScenario {
  // One stream per scenario, so a set of K is a prefix of the set of K + 1.
  const d = new Draw(seed * 1_000_003 + index);
  const name = `gen-${seed}-${String(index).padStart(4, '0')}`;
  const count = d.int(2, MAX_REGIONS);
  const places = d.shuffle(PLACES).slice(0, count);
  const homes = Math.max(1, Math.min(count, d.chance(0.75) ? d.int(2, count) : 1));
  const decisionIntervalSec = d.pick([10, 15, 20, 30]);
  const durationSec = decisionIntervalSec * d.int(Math.ceil(600 / decisionIntervalSec), Math.floor(2400 / decisionIntervalSec));
  const windowSec = decisionIntervalSec * Math.max(1, Math.round(d.pick([30, 60]) / decisionIntervalSec));
  const utilisation = d.range(0.3, 0.75);
  const regions = places.map((p, i) => {
    const home = i < homes;
    return {
      name: p.region,
      priority: home ? 0 : d.int(1, 2),
      weight: home ? 10 * d.int(1, 10) : 0,
      capacityRps: 50 * d.int(4, 60),
      medianLatencyMs: d.int(5, 60),
      latencySigma: r2(d.range(0.3, 0.8)),
      baseErrorRate: r2(d.range(0, 0.002) * 100) / 100,
    };
  });
  // Demand: a share of the home group's capacity, from clients homed in the home regions.
  const homeCapacity = regions.filter((r) => r.priority === 0).reduce((a, r) => a + r.capacityRps, 0);
  const homeShares = regions.map((r) => (r.priority === 0 ? d.range(0.5, 1.5) : 0));
  const shareTotal = homeShares.reduce((a, b) => a + b, 0);
  const withClients = regions.map((r, i) => ({ ...r, clientRps: Math.round((utilisation * homeCapacity * homeShares[i]!) / shareTotal) }));
  if (!withClients.some((r) => r.clientRps > 0)) withClients[0]!.clientRps = Math.max(1, Math.round(utilisation * homeCapacity));
  // The objective sits above what a healthy home region serves, by a margin from tight to loose.
  const worstRtt = Math.max(0, ...places.slice(0, homes).flatMap((a) => places.slice(0, homes).map((b) => roundTripMs(a, b))));
  const typicalP99 = Math.max(...regions.map((r) => r.medianLatencyMs * Math.exp(2.33 * r.latencySigma))) + worstRtt / 2;
  const links = places.flatMap((a, i) => places.slice(i + 1).map((b) => ({ between: [a.region, b.region], rttMs: roundTripMs(a, b), cost: r2(d.range(0.5, 2)) })));
  const calm = d.chance(0.3);
  const events = calm ? [] : Array.from({ length: d.int(1, 3) }, () => event(d, d.pick(EVENT_KINDS), d.pick(places.slice(0, Math.max(homes, 1))).region, durationSec));
  const doc: Doc = {
    name,
    description: `generated mesh ${index} of seed ${seed}: ${count} regions, ${homes} in the home group, ${calm ? 'calm' : `${events.length} incident(s)`}`,
    episode: { durationSec, decisionIntervalSec },
    route: {
      objectives: {
        latencyP99Ms: Math.max(20, Math.round(typicalP99 * d.range(1.3, 4))),
        maxErrorRate: d.pick([0.001, 0.005, 0.01, 0.02, 0.05]),
        crossRegionCostWeight: r2(d.range(0, 0.5)),
      },
    },
    telemetry: { windowSec, staleAfterSec: Math.max(decisionIntervalSec * 3, 30), noise: r2(d.range(0, 0.05)), healthChecks: d.chance(0.6) },
    load: {
      noise: r2(d.range(0, 0.08)),
      ...(d.chance(0.4) ? { diurnal: { amplitude: r2(d.range(0.1, 0.5)), periodSec: durationSec, phaseSec: d.int(0, durationSec) } } : {}),
    },
    network: { defaultRttMs: 80, defaultCost: 1, links },
    regions: withClients,
    events,
  };
  return { file: `${name}.yaml`, doc, calm };
}
