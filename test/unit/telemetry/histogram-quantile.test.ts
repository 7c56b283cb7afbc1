import { bucketQuantile, type Bucket } from '../../../operator/telemetry/scrape/histogram-quantile.ts';

function buckets(entries: [string, number][]): Bucket[] {
  return entries.map(([le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count }));
}

// Each case's buckets were given to Prometheus 2.42 (`promtool test rules`, one series per
// bucket at one instant) and histogram_quantile(q, ...) evaluated for every q below; `null`
// is where PromQL answers NaN, which here is "no data" (undefined).
const QS = [0, 0.05, 0.25, 0.5, 0.9, 0.99, 1] as const;
const PROMQL: { name: string; buckets: [string, number][]; expected: (number | null)[] }[] = [
  { name: 'interpolates within buckets, and returns the highest finite bound for the +Inf bucket', buckets: [['0.1', 10], ['0.5', 30], ['1', 45], ['+Inf', 50]], expected: [0, 0.025, 0.15000000000000002, 0.4, 1, 1, 1] },
  { name: 'every observation above the last finite bound', buckets: [['1', 0], ['+Inf', 5]], expected: [null, 1, 1, 1, 1, 1, 1] },
  { name: 'no observations', buckets: [['1', 0], ['+Inf', 0]], expected: [null, null, null, null, null, null, null] },
  { name: 'no +Inf bucket', buckets: [['1', 3], ['2', 5]], expected: [null, null, null, null, null, null, null] },
  { name: 'non-monotonic counts (envelope)', buckets: [['1', 10], ['2', 8], ['+Inf', 12]], expected: [0, 0.06000000000000001, 0.3, 0.6, 2, 2, 2] },
  { name: 'a lowest bound <= 0', buckets: [['-1', 2], ['0', 4], ['+Inf', 4]], expected: [-1, -1, -1, -1, -0.19999999999999996, -0.020000000000000018, 0] },
  { name: 'an empty lowest bucket', buckets: [['0.5', 0], ['1', 4], ['+Inf', 4]], expected: [null, 0.525, 0.625, 0.75, 0.95, 0.995, 1] },
  { name: 'empty buckets in the middle', buckets: [['5', 3], ['10', 3], ['20', 9], ['+Inf', 9]], expected: [0, 0.75, 3.75, 12.5, 18.5, 19.85, 20] },
  { name: 'only a +Inf bucket', buckets: [['+Inf', 7]], expected: [null, null, null, null, null, null, null] },
  { name: 'equal bounds written twice are merged', buckets: [['1', 5], ['1.0', 2], ['2', 9], ['+Inf', 10]], expected: [0, 0.07142857142857142, 0.35714285714285715, 0.7142857142857143, 2, 2, 2] },
];

describe('bucketQuantile', () => {
  describe.each(PROMQL)('agrees with PromQL histogram_quantile: $name', ({ buckets: entries, expected }) => {
    it.each(QS.map((q, i) => [q, expected[i]!] as const))('q=%p', (q, want) => {
      const got = bucketQuantile(q, buckets(entries));
      if (want === null) expect(got).toBeUndefined();
      else expect(got).toBeCloseTo(want, 12);
    });
  });

  it('does not depend on the order of the buckets, and leaves its input alone', () => {
    const input = buckets([['+Inf', 50], ['0.5', 30], ['1', 45], ['0.1', 10]]);
    const copy = structuredClone(input);
    expect(bucketQuantile(0.5, input)).toBeCloseTo(0.4, 12);
    expect(input).toEqual(copy);
  });

  it('gives no data for no buckets, NaN counts and negative counts', () => {
    expect(bucketQuantile(0.5, [])).toBeUndefined();
    expect(bucketQuantile(0.5, buckets([['1', NaN], ['+Inf', 3]]))).toBeUndefined();
    expect(bucketQuantile(0.5, buckets([['1', -1], ['+Inf', 3]]))).toBeUndefined();
  });

  it('refuses a quantile outside 0..1', () => {
    expect(() => bucketQuantile(1.5, buckets([['1', 1], ['+Inf', 1]]))).toThrow(RangeError);
    expect(() => bucketQuantile(NaN, buckets([['1', 1], ['+Inf', 1]]))).toThrow('quantile NaN is outside 0..1');
  });
});
