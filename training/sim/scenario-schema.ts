// The scenario file format (training/README.md documents it for users): one route across 1 to
// MAX_REGIONS regions, its clients, its network, and the events that happen to it. The schema
// is strict: an unknown field is an error (a misspelt field silently falling back to a default
// would train on a different world than the author wrote), and so is any impossible value.
import { z } from 'zod';
import { eventPlacementProblem, eventStartsSec } from './event-placement.ts';
import { MAX_REGIONS } from '../../operator/policy/features.ts';
import { parseRfc3339 } from '../../operator/telemetry/kafka/timestamp.ts';
import type { RecordedTrace } from './trace.ts';

const num = () => z.number({ error: (i) => (i.input === undefined ? 'is required' : 'must be a number') }).refine(Number.isFinite, 'must be a finite number');
const positive = () => num().refine((v) => v > 0, 'must be > 0');
const nonNegative = () => num().refine((v) => v >= 0, 'must be >= 0');
const fraction = () => num().refine((v) => v >= 0 && v <= 1, 'must be between 0 and 1');
/**
 * What a simulation can run: every duration, rate, latency and cost is bounded, so that no
 * finite number in a file (1e308, or a tick of 1e-300 s) makes an episode that never ends or
 * arithmetic that leaves float64.
 */
export const LIMITS = {
  /** Longest episode, and longest of any duration or phase: a week. */
  seconds: 7 * 86_400,
  /** Shortest tick, and the most ticks an episode may have. */
  minTickSec: 0.01,
  maxTicks: 1_000_000,
  rps: 10_000_000,
  ms: 3_600_000,
  cost: 1_000_000,
  factor: 1_000,
} as const;
const atMost = (max: number) => (v: number) => v <= max;
const seconds = () => nonNegative().refine(atMost(LIMITS.seconds), `must be at most ${LIMITS.seconds} s (a week)`);
const positiveSeconds = () => positive().refine(atMost(LIMITS.seconds), `must be at most ${LIMITS.seconds} s (a week)`);
const phase = () => num().refine((v) => Math.abs(v) <= LIMITS.seconds, `must be between -${LIMITS.seconds} and ${LIMITS.seconds} s`);
/** Capacities and latencies below a thousandth divide into numbers no simulation means. */
const atLeastSmall = () => num().refine((v) => v >= 0.001, 'must be at least 0.001');
const rps = (min: 'positive' | 'nonNegative') => (min === 'positive' ? atLeastSmall() : nonNegative()).refine(atMost(LIMITS.rps), `must be at most ${LIMITS.rps} requests per second`);
const ms = (min: 'positive' | 'nonNegative') => (min === 'positive' ? atLeastSmall() : nonNegative()).refine(atMost(LIMITS.ms), `must be at most ${LIMITS.ms} ms (an hour)`);
const cost = () => nonNegative().refine(atMost(LIMITS.cost), `must be at most ${LIMITS.cost}`);
const int = (min: number, max: number) =>
  num().refine((v) => Number.isInteger(v) && v >= min && v <= max, `must be an integer from ${min} to ${max}`);
const name = () =>
  z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits and -)');

const range = (min: number, max: number, unit: string) =>
  z
    .strictObject({ min: int(min, max), max: int(min, max) })
    .refine((r) => r.min <= r.max, { message: `min must be <= max (${unit})`, path: ['min'] });

/** Capacity that scales with load after a delay, as a HorizontalPodAutoscaler does: absent, capacity is fixed. */
const autoscale = z
  .strictObject({
    targetUtilization: num().refine((v) => v > 0 && v <= 1, 'must be > 0 and <= 1').default(0.7),
    delaySec: seconds().default(60),
    stepFactor: num().refine((v) => v > 1 && v <= 10, 'must be > 1 and <= 10').default(1.5),
    maxFactor: num().refine((v) => v >= 1 && v <= 100, 'must be from 1 to 100').default(3),
    cooldownSec: seconds().default(300),
  })
  .refine((a) => a.stepFactor <= a.maxFactor, { message: 'must be at most maxFactor', path: ['stepFactor'] });

/**
 * How one region's telemetry is off, whatever its health: it arrives late (a lagging pipeline),
 * reads latency or errors high or low (measured at the server, a mislabelled series), or some
 * deliveries are lost.
 */
const regionTelemetry = z.strictObject({
  region: name(),
  delaySec: seconds().default(0),
  latencyBias: num().refine((v) => v > 0 && v <= 10, 'must be > 0 and <= 10').default(1),
  errorBias: num().refine((v) => v >= 0 && v <= 10, 'must be from 0 to 10').default(1),
  lossRate: num().refine((v) => v >= 0 && v < 1, 'must be from 0 to below 1').default(0),
});

const region = z.strictObject({
  name: name(),
  priority: int(0, 7).default(0),
  weight: int(0, 10_000).default(100),
  capacityRps: rps('positive'),
  medianLatencyMs: ms('positive'),
  latencySigma: num().refine((v) => v > 0 && v <= 3, 'must be > 0 and <= 3').default(0.5),
  baseErrorRate: fraction().default(0.0005),
  clientRps: rps('nonNegative').default(0),
  loadPhaseSec: phase().default(0),
  autoscale: autoscale.optional(),
});

const link = z.strictObject({
  between: z.tuple([name(), name()], { error: 'must be a list of two region names' }),
  rttMs: ms('nonNegative'),
  cost: cost().default(1),
});

const EVENT_ANCHORS = ['start', 'end'] as const;
/** An event placed relative to another: at its start or end (after both are jittered), plus offsetSec. */
const after = z.strictObject({
  event: name(),
  at: z.enum(EVENT_ANCHORS, { error: `must be one of ${EVENT_ANCHORS.join(', ')}` }).default('end'),
  offsetSec: phase().default(0),
});
const window = {
  /** Names the event so that another can be placed after it. */
  name: name().optional(),
  region: name(),
  /** Absent exactly when `after` places the event. */
  startSec: seconds().optional(),
  after: after.optional(),
  durationSec: positiveSeconds(),
  startJitterSec: seconds().default(0),
};
/** A creeping degradation reaches full severity within its event, or it would never. */
const rampWithin = (e: { rampSec: number; durationSec: number }) => e.rampSec <= e.durationSec;
const rampWithinIssue = { message: 'must be at most durationSec', path: ['rampSec'] };
/**
 * The share of the region's tries an event hits: one bad pod of several, a bad shard, a slow
 * disk on some nodes. A small share of a slowdown is a tail-only slowdown (the p99 moves, the
 * median does not).
 */
const share = () => num().refine((v) => v > 0 && v <= 1, 'must be > 0 and <= 1 (the share of tries the event hits)').default(1);
const OUTAGE_MODES = ['refuse', 'blackhole'] as const;
/** stale: nothing new arrives, what was known ages; missing: what was known is lost too (an operator restart, an expired window). */
const TELEMETRY_LOSS_MODES = ['stale', 'missing'] as const;
const outageMode = z.enum(OUTAGE_MODES, { error: `must be one of ${OUTAGE_MODES.join(', ')}` }).default('refuse');

const event = z.discriminatedUnion(
  'kind',
  [
    z
      .strictObject({
        kind: z.literal('brownout'),
        ...window,
        capacityFactor: num().refine((v) => v > 0 && v <= 1, 'must be > 0 and <= 1'),
        latencyFactor: num().refine((v) => v >= 1, 'must be >= 1').default(1),
        errorRate: fraction().default(0),
        rampSec: seconds().default(0),
        fraction: share(),
      })
      .refine(rampWithin, rampWithinIssue),
    z.strictObject({ kind: z.literal('outage'), ...window, mode: outageMode }),
    z.strictObject({ kind: z.literal('latencySpike'), ...window, addedMs: ms('positive'), rampSec: seconds().default(0), fraction: share() }).refine(rampWithin, rampWithinIssue),
    z.strictObject({ kind: z.literal('errorBurst'), ...window, errorRate: fraction(), rampSec: seconds().default(0), fraction: share() }).refine(rampWithin, rampWithinIssue),
    z.strictObject({
      kind: z.literal('flashCrowd'),
      ...window,
      factor: positive().refine(atMost(LIMITS.factor), `must be at most ${LIMITS.factor}`),
      rampSec: seconds().default(0),
    }),
    z
      .strictObject({ kind: z.literal('flap'), ...window, periodSec: positiveSeconds(), downSec: positiveSeconds(), mode: outageMode })
      .refine((e) => e.downSec < e.periodSec, { message: 'must be < periodSec', path: ['downSec'] }),
    z
      .strictObject({ kind: z.literal('linkFault'), ...window, peer: name(), addedRttMs: ms('nonNegative').default(0), partition: z.boolean({ error: 'must be true or false' }).default(false) })
      .refine((e) => e.addedRttMs > 0 || e.partition, { message: 'must be above 0 unless partition is true', path: ['addedRttMs'] }),
    z.strictObject({
      kind: z.literal('staleTelemetry'),
      ...window,
      mode: z.enum(TELEMETRY_LOSS_MODES, { error: `must be one of ${TELEMETRY_LOSS_MODES.join(', ')}` }).default('stale'),
    }),
  ],
  { error: 'must have kind brownout, outage, latencySpike, errorBurst, flashCrowd, flap, linkFault or staleTelemetry' },
);

/** A recorded trace that drives the world (training/sim/trace.ts); the loader reads the file. */
const trace = z.strictObject({
  file: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') }).min(1, 'must be a path (relative to the scenario file)'),
  route: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be "namespace/name" of the recorded AdaptiveRoute'),
  startAt: z
    .union([z.string(), z.number()], { error: 'must be an RFC 3339 date-time or epoch milliseconds' })
    .refine((v) => (typeof v === 'string' ? !Number.isNaN(parseRfc3339(v)) : Number.isFinite(v) && v >= 0), 'must be an RFC 3339 date-time or epoch milliseconds')
    .optional(),
});

export const EVENT_KINDS = ['brownout', 'outage', 'latencySpike', 'errorBurst', 'flashCrowd', 'flap', 'staleTelemetry'] as const;

export const scenarioSchema = z
  .strictObject({
    name: name(),
    description: z.string().default(''),
    episode: z.strictObject({
      durationSec: positiveSeconds(),
      decisionIntervalSec: int(1, 3600),
      tickSec: num().refine((v) => v >= LIMITS.minTickSec && v <= 3600, `must be from ${LIMITS.minTickSec} to 3600 s`).default(1),
    }),
    route: z
      .strictObject({
        objectives: z
          .strictObject({
            latencyP99Ms: int(1, 3_600_000).default(250),
            maxErrorRate: fraction().default(0.01),
            crossRegionCostWeight: fraction().default(0.1),
          })
          .prefault({}),
        retries: z
          .strictObject({
            attempts: range(0, 10, 'attempts').prefault({ min: 0, max: 3 }),
            perTryTimeoutMs: range(1, 3_600_000, 'ms').prefault({ min: 100, max: 2000 }),
            /** spec.retries.crossRegion: retry k goes to the k-th next region in failover order (Envoy's previous_priorities). */
            crossRegion: z.boolean({ error: 'must be true or false' }).default(false),
          })
          .prefault({}),
        timeoutMs: range(1, 3_600_000, 'ms').prefault({ min: 1000, max: 15_000 }),
        policy: z
          .strictObject({
            maxWeightStep: int(1, 100).default(10),
            minWeight: int(0, 50).default(5),
            returnToSpecAfterSec: positive().optional(),
          })
          .prefault({}),
        /** spec.failover.enabled: false keeps traffic on the primary priority group, whatever happens. */
        failover: z.strictObject({ enabled: z.boolean({ error: 'must be true or false' }).default(true) }).prefault({}),
      })
      .prefault({}),
    telemetry: z
      .strictObject({
        windowSec: positiveSeconds().default(60),
        staleAfterSec: int(1, 86_400).default(60),
        noise: num().refine((v) => v >= 0 && v <= 0.5, 'must be between 0 and 0.5').default(0.02),
        healthChecks: z.boolean({ error: 'must be true or false' }).default(true),
        regions: z.array(regionTelemetry).max(MAX_REGIONS, `must list at most ${MAX_REGIONS} regions`).default([]),
      })
      .prefault({}),
    health: z
      .strictObject({
        errorRateThreshold: num().refine((v) => v > 0 && v <= 1, 'must be > 0 and <= 1').default(0.5),
        detectionDelaySec: seconds().default(15),
        recoveryDelaySec: seconds().optional(),
      })
      .prefault({}),
    load: z
      .strictObject({
        noise: num().refine((v) => v >= 0 && v <= 0.5, 'must be between 0 and 0.5').default(0.03),
        diurnal: z
          .strictObject({
            amplitude: num().refine((v) => v >= 0 && v < 1, 'must be >= 0 and < 1'),
            periodSec: positiveSeconds(),
            phaseSec: phase().default(0),
          })
          .optional(),
      })
      .prefault({}),
    server: z
      .strictObject({
        queueLimitMs: ms('positive').default(500),
        saturationErrorRate: fraction().default(0.05),
      })
      .prefault({}),
    network: z
      .strictObject({
        defaultRttMs: ms('nonNegative').default(80),
        defaultCost: cost().default(1),
        links: z.array(link).default([]),
      })
      .prefault({}),
    regions: z.array(region).min(1, `must list 1 to ${MAX_REGIONS} regions`).max(MAX_REGIONS, `must list 1 to ${MAX_REGIONS} regions`),
    events: z.array(event).default([]),
    trace: trace.optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const { durationSec, decisionIntervalSec, tickSec } = s.episode;
    const multiple = (a: number, b: number) => Math.abs(a / b - Math.round(a / b)) < 1e-9;
    if (durationSec / tickSec > LIMITS.maxTicks) issue(['episode', 'tickSec'], `makes ${Math.ceil(durationSec / tickSec)} ticks; an episode may have at most ${LIMITS.maxTicks} (raise tickSec or shorten durationSec)`);
    if (!multiple(decisionIntervalSec, tickSec)) issue(['episode', 'decisionIntervalSec'], `must be a whole number of ticks (tickSec ${tickSec})`);
    if (!multiple(durationSec, decisionIntervalSec)) issue(['episode', 'durationSec'], `must be a whole number of decision intervals (${decisionIntervalSec} s)`);
    if (!multiple(s.telemetry.windowSec, decisionIntervalSec)) issue(['telemetry', 'windowSec'], `must be a whole number of decision intervals (${decisionIntervalSec} s)`);
    const conditioned = new Set<string>();
    s.telemetry.regions.forEach((t, i) => {
      if (!s.regions.some((r) => r.name === t.region)) issue(['telemetry', 'regions', i, 'region'], `unknown region "${t.region}"`);
      else if (conditioned.has(t.region)) issue(['telemetry', 'regions', i, 'region'], `"${t.region}" is listed twice`);
      conditioned.add(t.region);
      if (!multiple(t.delaySec, decisionIntervalSec)) issue(['telemetry', 'regions', i, 'delaySec'], `must be a whole number of decision intervals (${decisionIntervalSec} s)`);
    });
    const names = new Map<string, number>();
    s.regions.forEach((r, i) => {
      if (names.has(r.name)) issue(['regions', i, 'name'], `duplicates regions[${names.get(r.name)}].name "${r.name}"`);
      else names.set(r.name, i);
    });
    if (!s.regions.some((r) => r.weight > 0)) issue(['regions'], 'at least one region needs a weight above 0');
    if (!s.regions.some((r) => r.clientRps > 0)) issue(['regions'], 'at least one region needs clientRps above 0');
    s.network.links.forEach((l, i) => {
      l.between.forEach((n, j) => {
        if (!names.has(n)) issue(['network', 'links', i, 'between', j], `unknown region "${n}"`);
      });
      if (l.between[0] === l.between[1]) issue(['network', 'links', i, 'between'], 'must name two different regions');
    });
    if (s.trace && s.load.diurnal) issue(['load', 'diurnal'], 'cannot be combined with trace: the recorded request rate drives the load');
    if (s.route.retries.crossRegion && !s.route.failover.enabled) issue(['route', 'retries', 'crossRegion'], 'needs route.failover.enabled (a retry goes to the next region in failover order)');
    const eventNames = new Map<string, number>();
    s.events.forEach((e, i) => {
      if (!names.has(e.region)) issue(['events', i, 'region'], `unknown region "${e.region}"`);
      if (e.kind === 'linkFault') {
        if (!names.has(e.peer)) issue(['events', i, 'peer'], `unknown region "${e.peer}"`);
        else if (e.peer === e.region) issue(['events', i, 'peer'], 'must be another region than region (a link joins two)');
      }
      if ((e.startSec === undefined) === (e.after === undefined)) issue(['events', i, 'startSec'], 'give either startSec or after (not both)');
      if (e.name !== undefined) {
        if (eventNames.has(e.name)) issue(['events', i, 'name'], `duplicates events[${eventNames.get(e.name)}].name "${e.name}"`);
        else eventNames.set(e.name, i);
      }
    });
    const placement = eventPlacementProblem(s.events);
    if (placement) issue(['events', placement.index, 'after', 'event'], placement.message);
    else {
      eventStartsSec(s.events).forEach((start, i) => {
        if (start >= durationSec) issue(['events', i, s.events[i]!.after ? 'after' : 'startSec'], `must be before the end of the episode (${durationSec} s)${s.events[i]!.after ? `; it starts at ${start} s` : ''}`);
      });
    }
  });

/**
 * A scenario as written, after defaults, and the records of its `trace` once
 * scenario-loader.ts has read and aligned them (`recorded` is not a field a file can set).
 */
export type ScenarioSpec = z.output<typeof scenarioSchema> & { recorded?: RecordedTrace };
export type ScenarioRegion = ScenarioSpec['regions'][number];
export type ScenarioEvent = ScenarioSpec['events'][number];
