import { counterIncrease, counterRate, summedIncrease } from '../../../operator/telemetry/scrape/counter-rate.ts';

describe('counterIncrease', () => {
  it('is the difference while the counter grows, and the new value after a reset', () => {
    expect(counterIncrease(10, 25)).toBe(15);
    expect(counterIncrease(10, 10)).toBe(0);
    expect(counterIncrease(100, 7)).toBe(7);
    expect(counterIncrease(100, 0)).toBe(0);
  });

  it('gives nothing for NaN, infinite or negative values', () => {
    for (const [a, b] of [[NaN, 1], [1, NaN], [Infinity, 1], [1, Infinity], [-1, 1], [1, -1]]) expect(counterIncrease(a!, b!)).toBeUndefined();
  });
});

describe('counterRate', () => {
  it('is the increase per second', () => {
    expect(counterRate({ value: 100, atMs: 1_000 }, { value: 130, atMs: 16_000 })).toBe(2);
    expect(counterRate({ value: 100, atMs: 0 }, { value: 30, atMs: 10_000 })).toBe(3);
  });

  it('gives nothing when time did not move forward', () => {
    expect(counterRate({ value: 1, atMs: 5_000 }, { value: 2, atMs: 5_000 })).toBeUndefined();
    expect(counterRate({ value: 1, atMs: 5_000 }, { value: 2, atMs: 4_000 })).toBeUndefined();
  });
});

describe('summedIncrease', () => {
  it('checks each series for a reset on its own, as sum(increase()) does', () => {
    const before = new Map([['a', 100], ['b', 50]]);
    const after = new Map([['a', 120], ['b', 5]]);
    expect(summedIncrease(before, after)).toBe(20 + 5);
  });

  it('counts a new series from 0 and a vanished one as nothing', () => {
    expect(summedIncrease(new Map([['a', 10], ['gone', 99]]), new Map([['a', 12], ['new', 3]]))).toBe(5);
  });

  it('is 0 for no series and undefined when any series is unusable', () => {
    expect(summedIncrease(new Map(), new Map())).toBe(0);
    expect(summedIncrease(new Map([['a', 1]]), new Map([['a', NaN]]))).toBeUndefined();
  });
});
