// Property test of the scrape path's arithmetic: whatever finite (or not) counters and buckets
// two scrapes carry, every signal a region gets is finite, or absent; never NaN or Infinity.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { counterRate } from '../../../operator/telemetry/scrape/counter-rate.ts';
import { ExpositionParseError, parseExposition } from '../../../operator/telemetry/scrape/exposition-parser.ts';
import { readRegionCounters } from '../../../operator/telemetry/scrape/region-counters.ts';
import { bucketQuantile } from '../../../operator/telemetry/scrape/histogram-quantile.ts';
import type { BucketSeries, RegionCounters } from '../../../operator/telemetry/scrape/region-counters.ts';
import { regionSignals } from '../../../operator/telemetry/scrape/region-signals.ts';

const value = fc.oneof(
  { arbitrary: fc.constantFrom(0, 5e-324, 1, 1e6, 1e300, 1e308, Number.MAX_VALUE, -1, Infinity, -Infinity, NaN), weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }), weight: 2 },
);
const bound = fc.constantFrom(-Infinity, -1e308, -1, 0, 0.005, 1, 250, 1e308, Infinity);
const counters = (keys: string[]) => fc.tuple(...keys.map(() => value)).map((vs) => new Map(keys.map((k, i) => [k, vs[i]!])));
const buckets = fc.array(fc.tuple(bound, value), { maxLength: 6 }).map(
  (bs) => new Map<string, BucketSeries>(bs.map(([le, v], i) => [`s${i}`, { leMs: le, value: v }])),
);
const reading = fc.record({
  atMs: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.5, 1e306)),
  counters: fc.record({
    origin: fc.constant<'grpc'>('grpc'),
    requests: counters(['a', 'b']),
    errors: counters(['a', 'b']),
    latency: buckets,
    saturation: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    invalid: fc.constant([] as string[]),
  }),
});

describe('scrape arithmetic', () => {
  it('gives only finite signals, whatever two scrapes carry', () => {
    fc.assert(
      fc.property(reading, reading, (a, b) => {
        const [previous, current] = a.atMs <= b.atMs ? [a, b] : [b, a];
        const values = regionSignals(previous as { atMs: number; counters: RegionCounters }, current as { atMs: number; counters: RegionCounters });
        for (const [signal, v] of Object.entries(values)) expect([signal, Number.isFinite(v)]).toEqual([signal, true]);
      }),
      { seed: 20261207, numRuns: 2000 },
    );
  });

  it('reads any page of the gRPC families into finite signals, or refuses it naming the line', () => {
    const number = fc.oneof(fc.constantFrom('0', '1', '1e308', '-1', 'NaN', '+Inf', '-Inf', '1e-300', '0x10', '', '1_0'), fc.double().map(String), fc.integer({ min: 0, max: 1e6 }).map(String));
    const le = fc.constantFrom('0.005', '0.1', '1', '+Inf', '-Inf', 'NaN', 'x', '1e308');
    const line = fc.oneof(
      fc.tuple(fc.constantFrom('OK', 'UNAVAILABLE', 'bad"quote'), number).map(([s, v]) => `grpc_server_call_duration_seconds_count{grpc_method="m",grpc_status="${s}"} ${v}`),
      fc.tuple(le, number).map(([l, v]) => `grpc_server_call_duration_seconds_bucket{grpc_method="m",grpc_status="OK",le="${l}"} ${v}`),
      fc.tuple(number, fc.constantFrom('', ' 1700000000000', ' 1e306', ' -5', ' x')).map(([v, ts]) => `grpc_server_call_started_total{grpc_method="m"} ${v}${ts}`),
      fc.string({ maxLength: 40 }),
    );
    const page = fc.array(line, { maxLength: 12 }).map((lines) => ['# TYPE grpc_server_call_duration_seconds histogram', '# TYPE grpc_server_call_started_total counter', ...lines, ''].join('\n'));
    fc.assert(
      fc.property(page, page, (a, b) => {
        const read = (text: string) => {
          try {
            return readRegionCounters(parseExposition(text), 'unused');
          } catch (e) {
            expect(e).toBeInstanceOf(ExpositionParseError);
            expect((e as Error).message).toMatch(/line \d+/);
            return undefined;
          }
        };
        const before = read(a);
        const after = read(b);
        if (!before || !after) return;
        for (const [signal, v] of Object.entries(regionSignals({ atMs: 0, counters: before }, { atMs: 10_000, counters: after }))) expect([signal, Number.isFinite(v)]).toEqual([signal, true]);
      }),
      { seed: 20261207, numRuns: 1000 },
    );
  });

  it('has no rate for an increase of 1e308 in a millisecond', () => {
    expect(counterRate({ value: 0, atMs: 1000 }, { value: 1e308, atMs: 1001 })).toBeUndefined();
  });

  it('has no quantile where the histogram has a -Inf bucket holding the rank', () => {
    const q = bucketQuantile(0.5, [
      { le: -Infinity, count: 10 },
      { le: 1, count: 10 },
      { le: Infinity, count: 10 },
    ]);
    expect(q === undefined || Number.isFinite(q)).toBe(true);
    const wide = bucketQuantile(0.5, [
      { le: -1e308, count: 1 },
      { le: 1e308, count: 10 },
      { le: Infinity, count: 10 },
    ]);
    expect(wide === undefined || Number.isFinite(wide)).toBe(true);
  });

  it('refuses an OpenMetrics timestamp beyond what milliseconds can hold, naming it', () => {
    expect(() => parseExposition('# TYPE x counter\nx_total 1 1e306\n# EOF\n', { format: 'openmetrics' })).toThrow(/invalid timestamp "1e306" for x_total/);
  });
});
