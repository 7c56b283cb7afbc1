// Random meshes for training and for honest evaluation: `generateScenario(seed, index)` writes
// one scenario document as a user's mesh might be: 2 to 8 regions placed on a map (round trips
// from the geography), capacities and costs, objectives from tight to loose, demand with or
// without a daily shape, telemetry with or without health checks, and either a calm period or
// one to three incidents from the simulator's event library at random, possibly overlapping,
// times. Deterministic: the same (seed, index) gives the same document, byte for byte, on every
// machine (seeded streams, no Math.random, no clock).
//
// Versions: v1 is the set the published held-out figures were measured on, and stays as it
// was. v2 (the default) is v1's document plus, from a second stream, what the simulator has
// learnt since: autoscaling regions, per-region telemetry delay, bias and loss, a follow-up
// incident placed after the first, a fault on one link, and routes without failover. v3 (the
// default) is v2's plus, from a third stream, faults on some pods only (incidents that hit a
// share of a region's tries, and tail-only slowdowns) and routes with cross-region retries.
import { prng } from '../../operator/base/random.ts';
import { MAX_REGIONS } from '../../operator/policy/features.ts';
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

export const GENERATOR_VERSIONS = ['v1', 'v2', 'v3'] as const;
/** The seeds and set sizes `meshpilot scenarios generate` (and `train --generated`) take. */
export const GENERATOR_SEED_MAX = 2 ** 31 - 1;
export const GENERATOR_COUNT_MAX = 10_000;
export type GeneratorVersion = (typeof GENERATOR_VERSIONS)[number];
/** What `scenarios generate` and `train --generated` draw when no version is named. */
export const DEFAULT_GENERATOR: GeneratorVersion = 'v3';

/** Scenario `index` of the set drawn from `seed` by generator `version` (default v3). */
export function generateScenario(seed: number, index: number, version: GeneratorVersion = DEFAULT_GENERATOR): GeneratedScenario {
  const v1 = generateV1(seed, index);
  if (version === 'v1') return v1;
  const v2 = withV2Features(v1, new Draw((seed * 1_000_003 + index) ^ 0x5bd1e995));
  return version === 'v2' ? v2 : withV3Features(v2, new Draw((seed * 1_000_003 + index) ^ 0x27d4eb2f));
}

/** Kinds of incident that can hit some pods only (the schema's `fraction`). */
const PARTIAL_KINDS = new Set(['brownout', 'latencySpike', 'errorBurst']);

/** v3's additions to a v2 document, drawn from `d` (never from v1's or v2's streams). */
function withV3Features(v2: GeneratedScenario, d: Draw): GeneratedScenario {
  const doc = structuredClone(v2.doc) as Doc & { regions: Doc[]; events: Doc[]; episode: { durationSec: number }; route: { failover?: { enabled: boolean }; retries?: Doc } };
  const notes: string[] = [];
  for (const e of doc.events) {
    if (PARTIAL_KINDS.has(e.kind as string) && d.chance(0.4)) {
      e.fraction = r2(d.range(0.05, 0.5));
      if (!notes.includes('incidents on some pods')) notes.push('incidents on some pods');
    }
  }
  if (!v2.calm && d.chance(0.3)) {
    const homes = doc.regions.filter((r) => r.priority === 0).map((r) => r.name as string);
    const durationSec = doc.episode.durationSec;
    const startSec = d.int(Math.round(durationSec * 0.1), Math.round(durationSec * 0.7));
    doc.events.push({ kind: 'latencySpike', region: d.pick(homes), startSec, durationSec: d.int(60, Math.max(60, Math.round(durationSec * 0.35))), addedMs: d.int(200, 1500), fraction: r2(d.range(0.01, 0.05)) });
    notes.push('a tail-only slowdown');
  }
  if (doc.route.failover?.enabled !== false && d.chance(0.2)) {
    doc.route.retries = { crossRegion: true };
    notes.push('cross-region retries');
  }
  doc.description = `${doc.description as string}${notes.length > 0 ? `; v3: ${notes.join(', ')}` : ''}`;
  return { ...v2, doc };
}

/** v2's additions to a v1 document, drawn from `d` (never from v1's stream, so v1 is unchanged). */
function withV2Features(v1: GeneratedScenario, d: Draw): GeneratedScenario {
  const doc = structuredClone(v1.doc) as Doc & { regions: Doc[]; events: Doc[]; episode: { durationSec: number; decisionIntervalSec: number }; telemetry: Doc; route: Doc };
  const names = doc.regions.map((r) => r.name as string);
  const homes = doc.regions.filter((r) => r.priority === 0).map((r) => r.name as string);
  const interval = doc.episode.decisionIntervalSec;
  const notes: string[] = [];
  if (d.chance(0.3)) {
    for (const r of d.shuffle(doc.regions).slice(0, d.int(1, 2))) {
      const stepFactor = r2(d.range(1.3, 2));
      r.autoscale = { targetUtilization: r2(d.range(0.6, 0.85)), delaySec: d.int(30, 180), stepFactor, maxFactor: r2(stepFactor * d.range(1, 2.5)), cooldownSec: d.int(120, 600) };
    }
    notes.push('autoscaling');
  }
  if (d.chance(0.3)) {
    doc.telemetry.regions = d.shuffle(names).slice(0, d.int(1, 2)).map((region) => ({
      region,
      delaySec: interval * d.int(0, 3),
      latencyBias: r2(d.range(0.7, 1.3)),
      errorBias: r2(d.range(0.5, 2)),
      lossRate: r2(d.chance(0.5) ? d.range(0, 0.3) : 0),
    }));
    notes.push('telemetry off in places');
  }
  if (!v1.calm && d.chance(0.35)) {
    const first = doc.events[0]!;
    first.name = 'first';
    const offsetSec = d.int(-30, 60);
    // After the first one's end when that still lies well inside the episode, else after its start (at most 0.7 of the way in).
    const fromEnd = d.chance(0.5) && (first.startSec as number) + (first.durationSec as number) + offsetSec < doc.episode.durationSec - 60;
    doc.events.push({ kind: 'errorBurst', region: d.pick(homes), errorRate: r2(d.range(0.05, 0.4)), durationSec: d.int(30, 180), after: { event: 'first', at: fromEnd ? 'end' : 'start', offsetSec } });
    notes.push('a follow-up incident');
  }
  if (!v1.calm && names.length > 1 && d.chance(0.25)) {
    const region = d.pick(homes);
    const peer = d.pick(names.filter((n) => n !== region));
    const start = d.int(Math.round(doc.episode.durationSec * 0.1), Math.round(doc.episode.durationSec * 0.7));
    doc.events.push({ kind: 'linkFault', region, peer, startSec: start, durationSec: d.int(60, 300), ...(d.chance(0.3) ? { partition: true } : { addedRttMs: d.int(50, 300) }) });
    notes.push('a link fault');
  }
  if (homes.length < names.length && d.chance(0.15)) {
    doc.route.failover = { enabled: false };
    notes.push('no failover');
  }
  doc.description = `${doc.description as string}${notes.length > 0 ? `; v2: ${notes.join(', ')}` : ''}`;
  return { ...v1, doc };
}

function generateV1(seed: number, index: number): GeneratedScenario {
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
