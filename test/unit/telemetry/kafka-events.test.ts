// The `meshpilot.telemetry/v1` event schema: every field of every type, every rejection reason,
// and the messages that name the field.
import { parseEvent, TELEMETRY_SCHEMA, type ParseResult, type Rejection, type TelemetryEvent } from '../../../operator/telemetry/kafka/events.ts';
import { parseRfc3339 } from '../../../operator/telemetry/kafka/timestamp.ts';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const ROUTE = 'shop/checkout';

function parse(value: unknown, options: { maxMessageBytes?: number; maxClockSkewMs?: number } = {}): ParseResult {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return parseEvent(Buffer.from(text), { nowMs: NOW, ...options });
}

function accepted(value: unknown): TelemetryEvent {
  const result = parse(value);
  if (!result.ok) throw new Error(`rejected: ${result.rejection.message}`);
  return result.value;
}

function rejected(value: unknown, options?: { maxMessageBytes?: number; maxClockSkewMs?: number }): Rejection {
  const result = parse(value, options);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value)}`);
  return result.rejection;
}

const request = (fields: Record<string, unknown> = {}) => ({ schema: TELEMETRY_SCHEMA, type: 'request', route: ROUTE, region: 'eu-west', time: NOW - 1_000, latencyMs: 12.5, error: false, ...fields });
const windowEvent = (fields: Record<string, unknown> = {}) => ({
  schema: TELEMETRY_SCHEMA,
  type: 'window',
  route: ROUTE,
  region: 'us-east',
  start: NOW - 11_000,
  end: NOW - 1_000,
  requests: 600,
  errors: 6,
  ...fields,
});
const health = (fields: Record<string, unknown> = {}) => ({ schema: TELEMETRY_SCHEMA, type: 'health', region: 'ap-south', time: NOW, healthy: false, ...fields });

function without(obj: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[field];
  return copy;
}

describe('parseEvent: request events', () => {
  it('reads a request into a RequestObservation', () => {
    expect(accepted(request())).toEqual({ type: 'request', request: { route: ROUTE, region: 'eu-west', atMs: NOW - 1_000, latencyMs: 12.5, error: false } });
  });

  it('reads time as RFC 3339 or epoch milliseconds', () => {
    const iso = accepted(request({ time: '2026-01-02T03:04:04.678Z' }));
    expect(iso.type === 'request' && iso.request.atMs).toBe(NOW - 1_000);
    const offset = accepted(request({ time: '2026-01-02T05:04:04.678+02:00' }));
    expect(offset.type === 'request' && offset.request.atMs).toBe(NOW - 1_000);
  });

  it('takes error from the boolean, or from an HTTP status (>= 500 is an error)', () => {
    const fromStatus = (status: number) => {
      const e = accepted(without(request({ status }), 'error'));
      return e.type === 'request' && e.request.error;
    };
    expect(fromStatus(200)).toBe(false);
    expect(fromStatus(404)).toBe(false);
    expect(fromStatus(503)).toBe(true);
    const both = accepted(request({ error: true, status: 200 }));
    expect(both.type === 'request' && both.request.error).toBe(true);
  });

  it('ignores fields it does not know (additive changes within v1)', () => {
    expect(accepted(request({ traceId: 'abc', extra: { nested: 1 } })).type).toBe('request');
  });

  it.each([
    ['route', 'route: is required (a string)'],
    ['region', 'region: is required (a string)'],
    ['time', 'time: is required (RFC 3339 date-time or epoch milliseconds)'],
    ['latencyMs', 'latencyMs: is required (a finite number >= 0)'],
    ['error', 'error: is required (a boolean) unless status (an HTTP status code) is given'],
  ])('rejects a request without %s as schema, naming the field', (field, message) => {
    expect(rejected(without(request(), field))).toEqual({ reason: 'schema', field, message });
  });

  it.each([
    [{ route: 'checkout' }, 'route', 'route: must be "namespace/name" of an AdaptiveRoute, got "checkout"'],
    [{ route: 'Shop/checkout' }, 'route', 'route: must be "namespace/name" of an AdaptiveRoute, got "Shop/checkout"'],
    [{ route: 'shop/check/out' }, 'route', 'route: must be "namespace/name" of an AdaptiveRoute, got "shop/check/out"'],
    [{ route: 42 }, 'route', 'route: must be a string, got 42'],
    [{ region: 'EU_WEST' }, 'region', 'region: must be a region name (a DNS-1123 label), got "EU_WEST"'],
    [{ region: '-eu' }, 'region', 'region: must be a region name (a DNS-1123 label), got "-eu"'],
    [{ time: 'yesterday' }, 'time', 'time: must be an RFC 3339 date-time or epoch milliseconds, got "yesterday"'],
    [{ time: '2026-01-02 03:04' }, 'time', 'time: must be an RFC 3339 date-time or epoch milliseconds, got "2026-01-02 03:04"'],
    [{ time: true }, 'time', 'time: must be an RFC 3339 date-time or epoch milliseconds, got true'],
    [{ latencyMs: '12' }, 'latencyMs', 'latencyMs: must be a finite number >= 0, got "12"'],
    [{ error: 'no' }, 'error', 'error: must be a boolean, got "no"'],
  ])('rejects %j as schema', (fields, field, message) => {
    expect(rejected(request(fields))).toEqual({ reason: 'schema', field, message });
  });

  it.each([
    [{ latencyMs: -3 }, 'latencyMs', 'latencyMs: must be a finite number >= 0, got -3'],
    [{ latencyMs: null }, 'latencyMs', 'latencyMs: must be a finite number >= 0, got null (NaN or Infinity)'],
    [{ latencyMs: 'NaN' }, 'latencyMs', 'latencyMs: must be a finite number >= 0, got "NaN" (NaN or Infinity)'],
    [{ latencyMs: '-Infinity' }, 'latencyMs', 'latencyMs: must be a finite number >= 0, got "-Infinity" (NaN or Infinity)'],
    [{ time: -5 }, 'time', 'time: must be epoch milliseconds >= 0, got -5'],
  ])('rejects %j as invalid_value', (fields, field, message) => {
    expect(rejected(request(fields))).toEqual({ reason: 'invalid_value', field, message });
  });

  it('reads bare NaN (Python\'s json) as a non-finite value of the field, not as malformed', () => {
    const text = JSON.stringify(request()).replace('"latencyMs":12.5', '"latencyMs": NaN');
    expect(rejected(text)).toMatchObject({ reason: 'invalid_value', field: 'latencyMs' });
  });

  it('rejects a status code outside 100..599 as invalid_value', () => {
    expect(rejected(without(request({ status: 700 }), 'error'))).toEqual({
      reason: 'invalid_value',
      field: 'status',
      message: 'status: must be an HTTP status code (100..599), got 700',
    });
  });

  it('rejects a timestamp beyond the clock skew as future_timestamp, and accepts one within it', () => {
    expect(rejected(request({ time: NOW + 30_001 }))).toMatchObject({ reason: 'future_timestamp', field: 'time' });
    expect(rejected(request({ time: NOW + 30_001 })).message).toMatch(/^time: 1767323075679 is 1 ms beyond the allowed clock skew/);
    expect(accepted(request({ time: NOW + 30_000 })).type).toBe('request');
    expect(rejected(request({ time: NOW + 5_001 }), { maxClockSkewMs: 5_000 }).reason).toBe('future_timestamp');
  });
});

describe('parseEvent: window events', () => {
  it('reads a window into a RegionSample at its end', () => {
    expect(accepted(windowEvent({ latencyMs: { p50: 12, p90: 30, p99: 80 }, saturation: 0.4 }))).toEqual({
      type: 'window',
      sample: {
        route: ROUTE,
        region: 'us-east',
        atMs: NOW - 1_000,
        source: 'kafka',
        values: { requestRate: 60, errorRate: 0.01, latencyP50: 12, latencyP90: 30, latencyP99: 80, saturation: 0.4 },
      },
    });
  });

  it('leaves the error rate out when there were no requests (no data, not 0 %), and optional signals out when absent', () => {
    const e = accepted(windowEvent({ requests: 0, errors: 0, latencyMs: { p99: 5 } }));
    expect(e.type === 'window' && e.sample.values).toEqual({ requestRate: 0, latencyP99: 5 });
  });

  it.each(['start', 'end', 'requests', 'errors'])('rejects a window without %s as schema', (field) => {
    expect(rejected(without(windowEvent(), field))).toMatchObject({ reason: 'schema', field });
  });

  it.each([
    [{ errors: 601 }, 'errors', 'errors: must be a finite number between 0 and requests (600), got 601'],
    [{ errors: -1 }, 'errors', 'errors: must be a finite number between 0 and requests (600), got -1'],
    [{ requests: -1 }, 'requests', 'requests: must be a finite number >= 0, got -1'],
    [{ requests: null }, 'requests', 'requests: must be a finite number >= 0, got null (NaN or Infinity)'],
    [{ end: NOW - 11_000 }, 'end', `end: must be at least 1 ms after start, got ${NOW - 11_000} (start ${NOW - 11_000})`],
    [{ latencyMs: { p50: -1 } }, 'latencyMs.p50', 'latencyMs.p50: must be a finite number >= 0, got -1'],
    [{ latencyMs: { p50: 20, p90: 10 } }, 'latencyMs.p90', 'latencyMs.p90: must be a finite number >= p50 (20), got 10'],
    [{ latencyMs: { p90: 20, p99: null } }, 'latencyMs.p99', 'latencyMs.p99: must be a finite number >= p90 (20), got null (NaN or Infinity)'],
    [{ saturation: -0.1 }, 'saturation', 'saturation: must be a finite number >= 0, got -0.1'],
  ])('rejects %j as invalid_value', (fields, field, message) => {
    expect(rejected(windowEvent(fields))).toEqual({ reason: 'invalid_value', field, message });
  });

  it('rejects a latencyMs that is not an object, and a quantile of the wrong type, as schema', () => {
    expect(rejected(windowEvent({ latencyMs: 12 }))).toMatchObject({ reason: 'schema', field: 'latencyMs' });
    expect(rejected(windowEvent({ latencyMs: [1, 2, 3] }))).toMatchObject({ reason: 'schema', field: 'latencyMs' });
    expect(rejected(windowEvent({ latencyMs: { p50: 'fast' } }))).toMatchObject({ reason: 'schema', field: 'latencyMs.p50' });
    expect(rejected(windowEvent({ saturation: 'high' }))).toMatchObject({ reason: 'schema', field: 'saturation' });
  });

  it('rejects a window ending in the future as future_timestamp', () => {
    expect(rejected(windowEvent({ end: NOW + 60_000 }))).toMatchObject({ reason: 'future_timestamp', field: 'end' });
  });
});

describe('parseEvent: health events', () => {
  it('reads a region-wide verdict, and one for a route with a reason', () => {
    expect(accepted(health())).toEqual({ type: 'health', health: { region: 'ap-south', atMs: NOW, healthy: false, source: 'kafka' } });
    expect(accepted(health({ route: ROUTE, healthy: true, reason: 'recovered' }))).toEqual({
      type: 'health',
      health: { route: ROUTE, region: 'ap-south', atMs: NOW, healthy: true, reason: 'recovered', source: 'kafka' },
    });
  });

  it.each([
    [without(health(), 'healthy'), 'healthy', 'healthy: is required (a boolean)'],
    [health({ healthy: 'yes' }), 'healthy', 'healthy: must be a boolean, got "yes"'],
    [without(health(), 'region'), 'region', 'region: is required (a string)'],
    [without(health(), 'time'), 'time', 'time: is required (RFC 3339 date-time or epoch milliseconds)'],
    [health({ route: 'nope' }), 'route', 'route: must be "namespace/name" of an AdaptiveRoute, got "nope"'],
    [health({ reason: 7 }), 'reason', 'reason: must be a string of at most 1024 characters, got 7'],
  ])('rejects %j as schema', (event, field, message) => {
    expect(rejected(event)).toEqual({ reason: 'schema', field, message });
  });

  it('rejects an overlong reason, and a verdict from the future', () => {
    expect(rejected(health({ reason: 'x'.repeat(1025) }))).toMatchObject({ reason: 'schema', field: 'reason' });
    expect(rejected(health({ time: NOW + 31_000 }))).toMatchObject({ reason: 'future_timestamp', field: 'time' });
  });
});

describe('parseEvent: the message as a whole', () => {
  it('rejects what is not JSON as malformed', () => {
    expect(rejected('{"schema": "meshpilot.telemetry/v1", ')).toMatchObject({ reason: 'malformed', field: '' });
    expect(rejected('{"schema": "meshpilot.telemetry/v1", ').message).toMatch(/^not JSON: /);
    expect(parseEvent(null, { nowMs: NOW })).toEqual({ ok: false, rejection: { reason: 'malformed', field: '', message: 'empty message (no value)' } });
  });

  it('rejects JSON that is not an object as schema', () => {
    expect(rejected('[1,2]')).toEqual({ reason: 'schema', field: '', message: 'must be a JSON object, got an array' });
    expect(rejected('"request"')).toEqual({ reason: 'schema', field: '', message: 'must be a JSON object, got "request"' });
  });

  it('rejects another version of the schema as unknown_version, and anything else as schema', () => {
    expect(rejected(request({ schema: 'meshpilot.telemetry/v2' }))).toEqual({
      reason: 'unknown_version',
      field: 'schema',
      message: 'schema: version "meshpilot.telemetry/v2" is not read by this operator (it reads meshpilot.telemetry/v1)',
    });
    expect(rejected(without(request(), 'schema'))).toEqual({ reason: 'schema', field: 'schema', message: 'schema: must be "meshpilot.telemetry/v1", got nothing' });
    expect(rejected(request({ schema: 'otel/v1' }))).toMatchObject({ reason: 'schema', field: 'schema' });
  });

  it('rejects an unknown type as schema', () => {
    expect(rejected(request({ type: 'trace' }))).toEqual({ reason: 'schema', field: 'type', message: 'type: must be one of request, window, health, got "trace"' });
  });

  it('rejects a message over the size limit as too_large before reading it', () => {
    const big = JSON.stringify(request({ pad: 'x'.repeat(64 * 1024) }));
    expect(rejected(big)).toEqual({ reason: 'too_large', field: '', message: `message of ${Buffer.byteLength(big)} bytes is larger than the limit of 65536 bytes` });
    expect(rejected(request(), { maxMessageBytes: 50 }).reason).toBe('too_large');
    expect(parse(request(), { maxMessageBytes: 1024 }).ok).toBe(true);
  });

  it('reads strings as well as buffers, and counts bytes, not characters, against the limit', () => {
    expect(parseEvent(JSON.stringify(request()), { nowMs: NOW }).ok).toBe(true);
    const text = JSON.stringify(request({ note: 'é'.repeat(40) }));
    expect(parseEvent(text, { nowMs: NOW, maxMessageBytes: text.length + 10 })).toMatchObject({ ok: false, rejection: { reason: 'too_large' } });
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-01-02T03:04:05Z', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02T03:04:05.6Z', Date.UTC(2026, 0, 2, 3, 4, 5, 600)],
    ['2026-01-02T03:04:05.123456789Z', Date.UTC(2026, 0, 2, 3, 4, 5, 123)],
    ['2026-01-02t03:04:05z', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02 03:04:05Z', Date.UTC(2026, 0, 2, 3, 4, 5)],
    ['2026-01-02T03:04:05+05:30', Date.UTC(2026, 0, 1, 21, 34, 5)],
    ['2026-01-02T03:04:05-01:00', Date.UTC(2026, 0, 2, 4, 4, 5)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0050-06-01T00:00:00Z', new Date('0050-06-01T00:00:00Z').getTime()],
  ])('reads %s', (text, ms) => {
    expect(parseRfc3339(text)).toBe(ms);
  });

  it.each([
    '2026-01-02T03:04:05', // no offset
    '2026-01-02T03:04Z',
    '2026-13-02T03:04:05Z',
    '2026-02-30T03:04:05Z',
    '2025-02-29T00:00:00Z',
    '2026-01-02T24:00:00Z',
    '2026-01-02T03:04:05.Z',
    '2026-01-02T03:04:05+0530',
    '2026-01-02T03:04:05Z ',
    '2026/01/02T03:04:05Z',
    'March 7, 2026 10:00:00Z',
  ])('refuses %s', (text) => {
    expect(parseRfc3339(text)).toBeNaN();
  });
});
