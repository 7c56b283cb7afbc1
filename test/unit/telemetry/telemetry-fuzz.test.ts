// Property test of the telemetry path end to end: whatever finite JSON a producer sends, an
// event is either rejected with a reason and a field, or taken; and whatever is taken, the
// route's snapshot and the policy's observation stay finite, so a decision never throws.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { encodeObservation } from '../../../operator/policy/features.ts';
import { observationFromSnapshot } from '../../../operator/policy/observe.ts';
import { parseEvent } from '../../../operator/telemetry/kafka/events.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { RequestObservation } from '../../../operator/telemetry/types.ts';
import { routeTarget } from './route-target.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { makeRoute } from '../policy/fixtures.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const KEY = 'shop/checkout';
const REGIONS = ['eu-west', 'us-east'];
const route = makeRoute('checkout', [
  { region: 'eu-west', weight: 60 },
  { region: 'us-east', weight: 40 },
]);

const target = () => routeTarget(REGIONS);

/** Finite numbers a buggy producer sends: ordinary ones, and the edges of float64. */
const finite = fc.oneof(
  { arbitrary: fc.constantFrom(0, 5e-324, 1e-300, 1, 1e6, 1e300, 1e308, Number.MAX_VALUE, -1, -1e308), weight: 3 },
  { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
  { arbitrary: fc.double({ min: 0, max: 1e4, noNaN: true }), weight: 2 },
);
/** Timestamps: around now, at odd epoch values, and RFC 3339 strings of odd years. */
const timestamp = fc.oneof(
  fc.integer({ min: T0 - 70_000, max: T0 + 40_000 }),
  fc.constantFrom(0, 5e-324, 1e306, T0 + 0.5),
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2026-11-24T09:59:30Z', '2026-11-24T10:00:00.000001Z', '9999-12-31T23:59:59Z'),
);
const region = fc.constantFrom(...REGIONS);

const windowEvent = fc.record({
  schema: fc.constant('meshpilot.telemetry/v1'),
  type: fc.constant('window'),
  route: fc.constant(KEY),
  region,
  start: timestamp,
  end: timestamp,
  requests: finite,
  errors: finite,
  latencyMs: fc.record({ p50: finite, p90: finite, p99: finite }, { requiredKeys: [] }),
  saturation: fc.option(finite, { nil: undefined }),
});
const requestEvent = fc.record({
  schema: fc.constant('meshpilot.telemetry/v1'),
  type: fc.constant('request'),
  route: fc.constant(KEY),
  region,
  time: timestamp,
  latencyMs: finite,
  error: fc.boolean(),
});
const event = fc.oneof(windowEvent, requestEvent);

function world() {
  const clock = new ManualClock(T0);
  const store = new WindowStore({ clock, metrics: telemetryMetrics(new Registry()), windowMs: 60_000, slots: 6, maxClockSkewMs: 30_000 });
  store.track(target());
  const feed = (e: Record<string, unknown>) => {
    const parsed = parseEvent(JSON.stringify(e), { nowMs: clock.now() });
    if (!parsed.ok) return parsed.rejection;
    if (parsed.value.type === 'window') store.recordSample(parsed.value.sample);
    else if (parsed.value.type === 'request') store.recordRequests('kafka', [parsed.value.request as RequestObservation]);
    return undefined;
  };
  const encode = () =>
    encodeObservation(observationFromSnapshot(route, store.snapshot(KEY), { weights: [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }], retryAttempts: 2, perTryTimeoutMs: 300 }));
  return { clock, store, feed, encode };
}

const window = (over: Record<string, unknown>) => ({ schema: 'meshpilot.telemetry/v1', type: 'window', route: KEY, region: 'eu-west', start: T0 - 10_000, end: T0, requests: 100, errors: 0, ...over });

describe('telemetry from Kafka events to the policy observation', () => {
  it('keeps the latency trend finite after two windows with a p99 of 1e308', () => {
    const w = world();
    expect(w.feed(window({ start: T0 - 20_000, end: T0 - 10_000, latencyMs: { p50: 1, p90: 1, p99: 1e308 } }))).toBeUndefined();
    expect(w.feed(window({ latencyMs: { p50: 1, p90: 1, p99: 1e308 } }))).toBeUndefined();
    const trend = w.store.snapshot(KEY)!.regions[0]!.trends.latencyP99;
    expect(trend === null || Number.isFinite(trend)).toBe(true);
    expect(w.encode().every(Number.isFinite)).toBe(true);
  });

  it('keeps the latency trend finite after a p99 of 0 and one of 1e308 a millisecond apart', () => {
    const w = world();
    w.feed(window({ start: T0 - 10_001, end: T0 - 1, latencyMs: { p99: 0 } }));
    w.feed(window({ latencyMs: { p99: 1e308 } }));
    const trend = w.store.snapshot(KEY)!.regions[0]!.trends.latencyP99;
    expect(trend === null || Number.isFinite(trend)).toBe(true);
    expect(w.encode().every(Number.isFinite)).toBe(true);
  });

  it.each([
    ['requests of 1e308 over 1 ms', { start: T0 - 1, end: T0, requests: 1e308 }, 'requests'],
    ['an end 5e-324 ms after a start of 0', { start: 0, end: 5e-324 }, 'end'],
    ['a start in the year 0000', { start: '0000-01-01T00:00:00Z' }, 'start'],
    ['an end in the year 0000', { start: 0, end: '0000-01-01T00:00:00Z' }, 'end'],
  ])('rejects %s as invalid_value naming the field, so it is dead-lettered', (_what, over, field) => {
    const rejection = world().feed(window(over));
    expect(rejection).toMatchObject({ reason: 'invalid_value', field });
  });

  it('encodes regions whose request rates each are near the top of float64', () => {
    const w = world();
    for (const region of REGIONS) w.feed(window({ region, start: T0 - 1000, requests: 1e308, errors: 1e308, latencyMs: { p50: 1e308, p90: 1e308, p99: 1e308 }, saturation: 1e308 }));
    expect(w.encode().every(Number.isFinite)).toBe(true);
  });

  it('rejects a request event stamped in the year 0000 as invalid_value', () => {
    expect(world().feed({ schema: 'meshpilot.telemetry/v1', type: 'request', route: KEY, region: 'eu-west', time: '0000-06-01T00:00:00Z', latencyMs: 3, error: false })).toMatchObject({
      reason: 'invalid_value',
      field: 'time',
    });
  });

  it('rejects with a reason and field, or keeps every snapshot value and the observation finite', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 5_000 })), { minLength: 1, maxLength: 30 }), (events) => {
        const clock = new ManualClock(T0);
        const store = new WindowStore({ clock, metrics: telemetryMetrics(new Registry()), windowMs: 60_000, slots: 6, maxClockSkewMs: 30_000 });
        store.track(target());
        for (const [e, advance] of events) {
          void clock.advance(advance);
          const parsed = parseEvent(JSON.stringify(e), { nowMs: clock.now() });
          if (!parsed.ok) {
            expect(parsed.rejection.reason).toMatch(/^[a-z_]+$/);
            expect(parsed.rejection.message.startsWith(parsed.rejection.field)).toBe(true);
            continue;
          }
          if (parsed.value.type === 'window') store.recordSample(parsed.value.sample);
          else if (parsed.value.type === 'request') store.recordRequests('kafka', [parsed.value.request as RequestObservation]);
          const snapshot = store.snapshot(KEY)!;
          for (const r of snapshot.regions) {
            for (const [signal, v] of Object.entries(r.signals)) if (v.value !== null) expect([signal, Number.isFinite(v.value)]).toEqual([signal, true]);
            for (const [trend, v] of Object.entries(r.trends ?? {})) if (v !== null) expect([trend, Number.isFinite(v)]).toEqual([trend, true]);
          }
          const observation = observationFromSnapshot(route, snapshot, { weights: [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }], retryAttempts: 2, perTryTimeoutMs: 300 });
          const encoded = encodeObservation(observation);
          expect(encoded.every((x) => Number.isFinite(x))).toBe(true);
        }
      }),
      { seed: 20261207, numRuns: 300 },
    );
  });
});
