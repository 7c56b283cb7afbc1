// Property test of the scrape path's arithmetic: whatever finite (or not) counters and buckets
// two scrapes carry, every signal a region gets is finite, or absent; never NaN or Infinity.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { counterRate } from '../../../operator/telemetry/scrape/counter-rate.ts';
import { parseExposition } from '../../../operator/telemetry/scrape/exposition-parser.ts';
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
