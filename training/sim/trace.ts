// A recorded trace: what a real mesh measured for one route, read from a JSONL file in one of
// meshpilot's own recorded formats and indexed per region as step functions of time (request
// rate, error rate, p50 latency). Two formats, told apart per line by `schema`:
// meshpilot.telemetry/v1 `window` events (what a Kafka telemetry topic holds) and the decision
// log (meshpilot.decision/v1 and meshpilot.decision-outcome/v1, whose observations are full
// per-region snapshots). Lines are validated by the operator's own readers (the Kafka
// consumer's parseEvent, the decision-log replay's parser), so a trace holds exactly what the
// operator would have taken in. What the records do to the simulated world is
// trace-timeline.ts's; aligning the trace to an episode is scenario-loader.ts's.
import { ConfigError } from '../../operator/base/errors.ts';
import { parseEvent, TELEMETRY_SCHEMA } from '../../operator/telemetry/kafka/events.ts';
import { parseRfc3339 } from '../../operator/telemetry/kafka/timestamp.ts';
import { DECISION_SCHEMA, OUTCOME_SCHEMA, parseDecisionLogLine } from './replay.ts';

/**
 * One region's records in time order. A record's values hold from its `atMs` until the
 * region's next record; NaN is "not recorded" (no requests, so no error rate or quantile).
 */
export interface TraceTrack {
  /** ms since the epoch, strictly increasing. */
  atMs: Float64Array;
  /** Requests per second the region served. */
  requestRate: Float64Array;
  /** Fraction of those requests that failed. */
  errorRate: Float64Array;
  latencyP50Ms: Float64Array;
}

/** What one trace file holds for one route. */
export interface TraceRecords {
  file: string;
  /** "namespace/name" of the route whose records were taken. */
  route: string;
  /** Per scenario region, in scenario order (an empty track for a region the trace never mentions). */
  tracks: TraceTrack[];
  /** The earliest record, ms since the epoch. */
  firstMs: number;
  /** The end of the last record (a window's `end`, a snapshot's `atMs`), ms since the epoch. */
  endMs: number;
  /** Lines taken for the route, lines of other routes (validated, then skipped), and health events (skipped: health is the simulator's outcome). */
  counts: { taken: number; otherRoutes: number; health: number };
}

/** A trace aligned to an episode: `startMs` (ms since the epoch) is the episode's t = 0. */
export interface RecordedTrace extends TraceRecords {
  startMs: number;
}

export interface TraceOptions {
  /** Names the file in errors. */
  file: string;
  /** The route to take ("namespace/name"). */
  route: string;
  /** The scenario's region names, in order: a region of the route outside them is an error. */
  regions: readonly string[];
}

interface Point {
  atMs: number;
  requestRate: number;
  errorRate: number;
  latencyP50Ms: number;
}

const SCHEMAS = [TELEMETRY_SCHEMA, DECISION_SCHEMA, OUTCOME_SCHEMA].map((s) => JSON.stringify(s)).join(', ');

/** Epoch ms of a window's `start`, which parseEvent has already validated but does not return. */
function startOf(value: unknown): number {
  return typeof value === 'number' ? value : parseRfc3339(value as string);
}

function schemaOf(line: string): unknown {
  try {
    const doc: unknown = JSON.parse(line);
    return typeof doc === 'object' && doc !== null ? (doc as { schema?: unknown }).schema : undefined;
  } catch {
    return undefined;
  }
}

/** `value` when null or in range, else a ConfigError naming `where` and `field`. */
function checked(value: number | null, where: string, field: string, constraint: string, ok: (v: number) => boolean): number {
  if (value === null) return NaN;
  if (!Number.isFinite(value) || !ok(value)) throw new ConfigError(`${where}: ${field}: must be ${constraint}, got ${value}`);
  return value;
}

/** Index of the last record of `track` at or before `atMs` (ms since the epoch), -1 when there is none. */
export function recordIndex(track: TraceTrack, atMs: number): number {
  const times = track.atMs;
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= atMs) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function trackOf(points: Point[]): TraceTrack {
  // Stable sort: of two records at the same instant the later line wins (the decision log
  // repeats a sample in the next snapshots; a re-sent window replaces the first).
  points.sort((a, b) => a.atMs - b.atMs);
  const kept: Point[] = [];
  for (const p of points) {
    if (kept.length > 0 && kept[kept.length - 1]!.atMs === p.atMs) kept[kept.length - 1] = p;
    else kept.push(p);
  }
  return {
    atMs: Float64Array.from(kept, (p) => p.atMs),
    requestRate: Float64Array.from(kept, (p) => p.requestRate),
    errorRate: Float64Array.from(kept, (p) => p.errorRate),
    latencyP50Ms: Float64Array.from(kept, (p) => p.latencyP50Ms),
  };
}

/**
 * Reads the records of `options.route` from `text` (JSONL; blank lines are skipped). Every
 * line is validated, whichever route it is for. A `window` event holds from its `start` (it
 * measured [start, end)); a decision or outcome record's region holds from when its newest
 * reading was measured (the snapshot's `atMs` − the region's `newestAgeMs`), with the values
 * the snapshot carried. Throws ConfigError naming `file:line` and the field for a line that is
 * not a valid v1 telemetry event, decision or outcome record, for `request` events (a trace
 * needs per-region windows: aggregate them first), for a region of the route that is not one
 * of `options.regions`, and when the file holds nothing for the route. Pure.
 */
export function parseTrace(text: string, options: TraceOptions): TraceRecords {
  const { file, route } = options;
  const acc: TraceAcc = {
    options,
    regionIndex: new Map(options.regions.map((r, i) => [r, i])),
    points: options.regions.map(() => []),
    counts: { taken: 0, otherRoutes: 0, health: 0 },
    others: new Set<string>(),
    firstMs: Infinity,
    endMs: -Infinity,
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    const schema = schemaOf(line);
    if (schema === DECISION_SCHEMA || schema === OUTCOME_SCHEMA) readDecisionRecord(acc, line, where);
    else readTelemetryEvent(acc, line, where, schema);
  });
  if (!Number.isFinite(acc.firstMs)) {
    const seen = acc.others.size > 0 ? ` (it holds records of ${[...acc.others].sort().join(', ')})` : '';
    throw new ConfigError(`${file}: no window events or decision-log records with data for route ${route}${seen}`);
  }
  return { file, route, tracks: acc.points.map(trackOf), firstMs: acc.firstMs, endMs: acc.endMs, counts: acc.counts };
}

/** What parseTrace has read so far. */
interface TraceAcc {
  options: TraceOptions;
  regionIndex: Map<string, number>;
  points: Point[][];
  counts: TraceRecords['counts'];
  others: Set<string>;
  firstMs: number;
  endMs: number;
}

function regionOf(acc: TraceAcc, name: string, where: string, field: string): number {
  const r = acc.regionIndex.get(name);
  if (r === undefined) throw new ConfigError(`${where}: ${field}: "${name}" is not a region of the scenario (${acc.options.regions.join(', ')})`);
  return r;
}

function addPoint(acc: TraceAcc, r: number, p: Point): void {
  acc.points[r]!.push(p);
  acc.firstMs = Math.min(acc.firstMs, p.atMs);
}

/** True for a record of the traced route; counts the others. */
function isTraced(acc: TraceAcc, route: string): boolean {
  if (route === acc.options.route) {
    acc.counts.taken++;
    return true;
  }
  acc.counts.otherRoutes++;
  acc.others.add(route);
  return false;
}

/** A decision or outcome record: each region's readings, from when its newest one was measured. */
function readDecisionRecord(acc: TraceAcc, line: string, where: string): void {
  const record = parseDecisionLogLine(line, where);
  if (!isTraced(acc, record.route)) return;
  const o = record.observation;
  acc.endMs = Math.max(acc.endMs, o.atMs);
  o.regions.forEach((g, k) => {
    const at = `observation.regions[${k}]`;
    const r = regionOf(acc, g.region, where, `${at}.region`);
    if (g.newestAgeMs === null) return;
    const age = checked(g.newestAgeMs, where, `${at}.newestAgeMs`, 'a finite number >= 0', (v) => v >= 0);
    const s = g.signals;
    addPoint(acc, r, {
      atMs: o.atMs - age,
      requestRate: checked(s.requestRate.value, where, `${at}.signals.requestRate.value`, 'a finite number >= 0', (v) => v >= 0),
      errorRate: checked(s.errorRate.value, where, `${at}.signals.errorRate.value`, 'a fraction (0 to 1)', (v) => v >= 0 && v <= 1),
      latencyP50Ms: checked(s.latencyP50.value, where, `${at}.signals.latencyP50.value`, 'a finite number >= 0', (v) => v >= 0),
    });
  });
}

/** Anything else, read as a telemetry event so that the operator's own validator names what is wrong; windows are kept. */
function readTelemetryEvent(acc: TraceAcc, line: string, where: string, schema: unknown): void {
  const result = parseEvent(line, { nowMs: Infinity, maxMessageBytes: Infinity });
  if (!result.ok) {
    const { reason, field, message } = result.rejection;
    if (field === 'schema' && reason === 'schema') throw new ConfigError(`${where}: schema: must be one of ${SCHEMAS}, got ${JSON.stringify(schema) ?? 'nothing'}`);
    throw new ConfigError(`${where}: ${message}`);
  }
  const event = result.value;
  if (event.type === 'request') {
    throw new ConfigError(`${where}: type: "request" events are not replayed: a trace needs per-region windows ("window" events) or decision-log records; aggregate request events into windows first`);
  }
  if (event.type === 'health') {
    acc.counts.health++;
    return;
  }
  const sample = event.sample;
  if (!isTraced(acc, sample.route)) return;
  const r = regionOf(acc, sample.region, where, 'region');
  acc.endMs = Math.max(acc.endMs, sample.atMs);
  const v = sample.values;
  addPoint(acc, r, {
    atMs: startOf((JSON.parse(line) as { start: unknown }).start),
    requestRate: v.requestRate ?? NaN,
    errorRate: v.errorRate ?? NaN,
    latencyP50Ms: v.latencyP50 ?? NaN,
  });
}
