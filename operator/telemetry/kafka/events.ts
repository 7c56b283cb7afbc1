// The Kafka telemetry event schema `meshpilot.telemetry/v1` (documented for producers in
// EVENTS.md next to this file) and its validation. Every message of a telemetry topic goes
// through parseEvent, so it is written by hand for speed (no schema library, one pass over
// the parsed object, no allocation beyond the result) and it never throws: a message is
// either one observation or a rejection that names the field and the reason.
import { REJECT_REASONS, type RejectReason } from '../metrics.ts';
import type { HealthObservation, RegionSample, RequestObservation, Signal } from '../types.ts';
import { parseRfc3339 } from './timestamp.ts';

export const TELEMETRY_SCHEMA = 'meshpilot.telemetry/v1';
/** Versions of this family that a future operator may write; any but v1 is `unknown_version`. */
const SCHEMA_FAMILY = 'meshpilot.telemetry/';

export const EVENT_TYPES = ['request', 'window', 'health'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The default largest message accepted, in bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
/** How far ahead of this operator's clock an event may be stamped before it is `future_timestamp`. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;

const MAX_REASON_CHARS = 1024;

/** Why a message was not taken, in words a producer's owner can act on. */
export interface Rejection {
  reason: RejectReason;
  /** The JSON path of the offending field ("latencyMs.p99"), or "" for the message as a whole. */
  field: string;
  /** Starts with the field: `latencyMs: must be a finite number >= 0, got -3`. */
  message: string;
}

export type TelemetryEvent =
  | { type: 'request'; request: RequestObservation }
  | { type: 'window'; sample: RegionSample }
  | { type: 'health'; health: HealthObservation };

export type ParseResult = { ok: true; value: TelemetryEvent } | { ok: false; rejection: Rejection };

export interface ParseOptions {
  /** This operator's time now, ms since the epoch (timestamps beyond now + skew are rejected). */
  nowMs: number;
  maxMessageBytes?: number;
  maxClockSkewMs?: number;
}

type Json = Record<string, unknown>;

/** Thrown inside the parser only; parseEvent turns it into its result. */
class Reject {
  readonly rejection: Rejection;
  constructor(reason: RejectReason, field: string, problem: string) {
    this.rejection = { reason, field, message: field === '' ? problem : `${field}: ${problem}` };
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** JSON's encoders write NaN and ±Infinity as null (JavaScript) or bare tokens (Python); both mean a non-finite number. */
function nonFinite(value: unknown): boolean {
  return value === null || value === 'NaN' || value === 'Infinity' || value === '-Infinity';
}

function number(obj: Json, field: string, path: string, constraint: string, ok: (n: number) => boolean): number {
  const value = obj[field];
  if (typeof value === 'number') {
    if (Number.isFinite(value) && ok(value)) return value;
    throw new Reject(REJECT_REASONS.invalidValue, path, `must be ${constraint}, got ${value}`);
  }
  if (nonFinite(value)) throw new Reject(REJECT_REASONS.invalidValue, path, `must be ${constraint}, got ${describe(value)} (NaN or Infinity)`);
  if (value === undefined) throw new Reject(REJECT_REASONS.schema, path, `is required (${constraint})`);
  throw new Reject(REJECT_REASONS.schema, path, `must be ${constraint}, got ${describe(value)}`);
}

const nonNegative = (n: number) => n >= 0;

function optionalNumber(obj: Json, field: string, path: string, constraint: string, ok: (n: number) => boolean): number | undefined {
  return obj[field] === undefined ? undefined : number(obj, field, path, constraint, ok);
}

function isLabelChar(c: number, dot: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || (dot && c === 46);
}

/** A DNS-1123 label (dot false) or subdomain (dot true) of at most `max` characters. */
function isDnsName(text: string, from: number, to: number, max: number, dot: boolean): boolean {
  const n = to - from;
  if (n < 1 || n > max) return false;
  for (let i = from; i < to; i++) if (!isLabelChar(text.charCodeAt(i), dot)) return false;
  const first = text.charCodeAt(from), last = text.charCodeAt(to - 1);
  return first !== 45 && first !== 46 && last !== 45 && last !== 46;
}

function string(obj: Json, field: string): string {
  const value = obj[field];
  if (typeof value === 'string') return value;
  throw new Reject(REJECT_REASONS.schema, field, value === undefined ? 'is required (a string)' : `must be a string, got ${describe(value)}`);
}

function route(obj: Json): string {
  const value = string(obj, 'route');
  const slash = value.indexOf('/');
  if (slash < 0 || !isDnsName(value, 0, slash, 63, false) || !isDnsName(value, slash + 1, value.length, 253, true)) {
    throw new Reject(REJECT_REASONS.schema, 'route', `must be "namespace/name" of an AdaptiveRoute, got ${describe(value)}`);
  }
  return value;
}

function region(obj: Json): string {
  const value = string(obj, 'region');
  if (!isDnsName(value, 0, value.length, 63, false)) {
    throw new Reject(REJECT_REASONS.schema, 'region', `must be a region name (a DNS-1123 label), got ${describe(value)}`);
  }
  return value;
}

function time(obj: Json, field: string, latestMs: number): number {
  const value = obj[field];
  let atMs: number;
  if (typeof value === 'string') {
    atMs = parseRfc3339(value);
    if (Number.isNaN(atMs)) throw new Reject(REJECT_REASONS.schema, field, `must be an RFC 3339 date-time or epoch milliseconds, got ${describe(value)}`);
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Reject(REJECT_REASONS.invalidValue, field, `must be epoch milliseconds >= 0, got ${value}`);
    atMs = value;
  } else {
    throw new Reject(
      REJECT_REASONS.schema,
      field,
      value === undefined ? 'is required (RFC 3339 date-time or epoch milliseconds)' : `must be an RFC 3339 date-time or epoch milliseconds, got ${describe(value)}`,
    );
  }
  if (atMs < 0) throw new Reject(REJECT_REASONS.invalidValue, field, `${describe(value)} is before 1970-01-01T00:00:00Z`);
  if (atMs > latestMs) {
    throw new Reject(REJECT_REASONS.futureTimestamp, field, `${describe(value)} is ${Math.round(atMs - latestMs)} ms beyond the allowed clock skew in the future`);
  }
  return atMs;
}

function requestEvent(obj: Json, latestMs: number): RequestObservation {
  const r = route(obj);
  const g = region(obj);
  const atMs = time(obj, 'time', latestMs);
  const latencyMs = number(obj, 'latencyMs', 'latencyMs', 'a finite number >= 0', nonNegative);
  const flag = obj.error;
  let error: boolean;
  if (typeof flag === 'boolean') {
    error = flag;
  } else if (flag !== undefined) {
    throw new Reject(REJECT_REASONS.schema, 'error', `must be a boolean, got ${describe(flag)}`);
  } else if (obj.status !== undefined) {
    const status = number(obj, 'status', 'status', 'an HTTP status code (100..599)', (n) => Number.isInteger(n) && n >= 100 && n <= 599);
    error = status >= 500;
  } else {
    throw new Reject(REJECT_REASONS.schema, 'error', 'is required (a boolean) unless status (an HTTP status code) is given');
  }
  return { route: r, region: g, atMs, latencyMs, error };
}

const QUANTILE_FIELDS = [
  ['p50', 'latencyP50'],
  ['p90', 'latencyP90'],
  ['p99', 'latencyP99'],
] as const;

function windowEvent(obj: Json, latestMs: number): RegionSample {
  const r = route(obj);
  const g = region(obj);
  const startMs = time(obj, 'start', Infinity);
  const endMs = time(obj, 'end', latestMs);
  // Timestamps are milliseconds: a window shorter than one has no rate.
  if (!(endMs - startMs >= 1)) throw new Reject(REJECT_REASONS.invalidValue, 'end', `must be at least 1 ms after start, got ${describe(obj.end)} (start ${describe(obj.start)})`);
  const requests = number(obj, 'requests', 'requests', 'a finite number >= 0', nonNegative);
  const errors = number(obj, 'errors', 'errors', `a finite number between 0 and requests (${requests})`, (n) => n >= 0 && n <= requests);
  const requestRate = requests / ((endMs - startMs) / 1000);
  if (!Number.isFinite(requestRate)) {
    throw new Reject(REJECT_REASONS.invalidValue, 'requests', `${requests} over ${endMs - startMs} ms is not a finite request rate`);
  }
  const values: Partial<Record<Signal, number>> = { requestRate };
  if (requests > 0) values.errorRate = errors / requests;
  const latency = obj.latencyMs;
  if (latency !== undefined) {
    if (typeof latency !== 'object' || latency === null || Array.isArray(latency)) {
      throw new Reject(REJECT_REASONS.schema, 'latencyMs', `must be an object {p50, p90, p99} of milliseconds, got ${describe(latency)}`);
    }
    let below = 0;
    let belowName = '';
    for (const [key, signal] of QUANTILE_FIELDS) {
      const path = `latencyMs.${key}`;
      const bound = belowName === '' ? 'a finite number >= 0' : `a finite number >= ${belowName} (${below})`;
      const q = optionalNumber(latency as Json, key, path, bound, (n) => n >= below);
      if (q === undefined) continue;
      values[signal] = q;
      below = q;
      belowName = key;
    }
  }
  const saturation = optionalNumber(obj, 'saturation', 'saturation', 'a finite number >= 0', nonNegative);
  if (saturation !== undefined) values.saturation = saturation;
  return { route: r, region: g, atMs: endMs, source: 'kafka', values };
}

function healthEvent(obj: Json, latestMs: number): HealthObservation {
  const r = obj.route === undefined ? undefined : route(obj);
  const g = region(obj);
  const atMs = time(obj, 'time', latestMs);
  const healthy = obj.healthy;
  if (typeof healthy !== 'boolean') {
    throw new Reject(REJECT_REASONS.schema, 'healthy', healthy === undefined ? 'is required (a boolean)' : `must be a boolean, got ${describe(healthy)}`);
  }
  const reason = obj.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_CHARS)) {
    throw new Reject(REJECT_REASONS.schema, 'reason', `must be a string of at most ${MAX_REASON_CHARS} characters, got ${describe(reason)}`);
  }
  const health: HealthObservation = { region: g, atMs, healthy, source: 'kafka' };
  if (r !== undefined) health.route = r;
  if (reason !== undefined) health.reason = reason;
  return health;
}

/** Python's json writes bare NaN/Infinity, which is not JSON; read them as null so the field gets named. */
const BARE_NON_FINITE = /:\s*-?(?:NaN|Infinity)(?=\s*[,}\]])/g;

function parseJson(text: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    BARE_NON_FINITE.lastIndex = 0;
    if (BARE_NON_FINITE.test(text)) {
      try {
        parsed = JSON.parse(text.replace(BARE_NON_FINITE, ':null'));
      } catch {
        parsed = undefined;
      }
    }
    if (parsed === undefined) throw new Reject(REJECT_REASONS.malformed, '', `not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Reject(REJECT_REASONS.schema, '', `must be a JSON object, got ${describe(parsed)}`);
  }
  return parsed as Json;
}

function event(text: string, latestMs: number): TelemetryEvent {
  const obj = parseJson(text);
  const schema = obj.schema;
  if (schema !== TELEMETRY_SCHEMA) {
    if (typeof schema === 'string' && schema.startsWith(SCHEMA_FAMILY)) {
      throw new Reject(REJECT_REASONS.unknownVersion, 'schema', `version ${describe(schema)} is not read by this operator (it reads ${TELEMETRY_SCHEMA})`);
    }
    throw new Reject(REJECT_REASONS.schema, 'schema', `must be ${JSON.stringify(TELEMETRY_SCHEMA)}, got ${describe(schema)}`);
  }
  switch (obj.type) {
    case 'request':
      return { type: 'request', request: requestEvent(obj, latestMs) };
    case 'window':
      return { type: 'window', sample: windowEvent(obj, latestMs) };
    case 'health':
      return { type: 'health', health: healthEvent(obj, latestMs) };
    default:
      throw new Reject(REJECT_REASONS.schema, 'type', `must be one of ${EVENT_TYPES.join(', ')}, got ${describe(obj.type)}`);
  }
}

/**
 * Reads one message value. Never throws: a value that is not a valid `meshpilot.telemetry/v1`
 * event is a rejection whose reason is the metric label and whose message names the field.
 * Range checks that need the followed routes (unknown route or region, older than the
 * window) are the window store's.
 */
export function parseEvent(value: Buffer | string | null, options: ParseOptions): ParseResult {
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  try {
    if (value === null) throw new Reject(REJECT_REASONS.malformed, '', 'empty message (no value)');
    const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    if (bytes > maxBytes) throw new Reject(REJECT_REASONS.tooLarge, '', `message of ${bytes} bytes is larger than the limit of ${maxBytes} bytes`);
    const text = typeof value === 'string' ? value : value.toString('utf8');
    return { ok: true, value: event(text, options.nowMs + (options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS)) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, rejection: e.rejection };
    throw e;
  }
}
