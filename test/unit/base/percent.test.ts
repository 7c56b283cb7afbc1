// Whole percents from proportions: the one rounding every room uses (base/percent.ts).
import { describe, expect, it } from '@jest/globals';
import { largestRemainder } from '../../../operator/base/percent.ts';

describe('largestRemainder', () => {
  it('sums to exactly 100 and stays within 1 of the exact share', () => {
    for (const weights of [[1, 1, 1], [3, 2, 1], [1, 1, 1, 1, 1, 1, 1], [9999, 1], [7, 13, 29, 51], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]) {
      const percents = largestRemainder(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      expect(percents.reduce((a, b) => a + b, 0)).toBe(100);
      percents.forEach((p, i) => {
        expect(Number.isInteger(p)).toBe(true);
        expect(Math.abs(p - (weights[i]! * 100) / total)).toBeLessThan(1);
      });
    }
  });

  it('gives the leftover points to the largest remainders, ties to the earlier entry', () => {
    expect(largestRemainder([1, 1, 1])).toEqual([34, 33, 33]);
    expect(largestRemainder([3, 2, 1])).toEqual([50, 33, 17]);
    expect(largestRemainder([2, 1])).toEqual([67, 33]);
  });

  it('keeps zero weights at zero and returns all zeros when nothing has weight', () => {
    expect(largestRemainder([0, 5, 0, 5])).toEqual([0, 50, 0, 50]);
    expect(largestRemainder([0, 0])).toEqual([0, 0]);
  });
  it('gives integers summing to exactly 100, each within 1 of its share, ties to the larger then the earlier', () => {
    expect(largestRemainder([1, 1, 1])).toEqual([34, 33, 33]);
    expect(largestRemainder([1, 2, 2])).toEqual([20, 40, 40]);
    expect(largestRemainder([2, 1, 1, 2])).toEqual([33, 17, 17, 33]);
    expect(largestRemainder([1, 1, 1, 1, 1, 1])).toEqual([17, 17, 17, 17, 16, 16]);
    expect(largestRemainder([0.1, 0.2, 0.7])).toEqual([10, 20, 70]);
    expect(largestRemainder([0, 0])).toEqual([0, 0]);
    expect(largestRemainder([-5, 5])).toEqual([0, 100]);
  });

  it('reads any scale and other totals, and does not floor a float just under an integer', () => {
    expect(largestRemainder([0.2, 0.2, 0.2])).toEqual([34, 33, 33]);
    expect(largestRemainder([0.29, 0.71])).toEqual([29, 71]);
    expect(largestRemainder([1, 1, 1], 10)).toEqual([4, 3, 3]);
    expect(largestRemainder([-3, 1])).toEqual([0, 100]);
  });
});
