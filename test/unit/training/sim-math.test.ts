import { prng } from '../../../operator/base/random.ts';
import { addPointMass, addShiftedLognormal, GRID_SIZE, gridCdfAt, gridQuantile, normalCdf, normalSampler } from '../../../training/sim/math.ts';

describe('simulator numerics', () => {
  it('computes the normal CDF to 1e-6', () => {
    for (const [z, p] of [[0, 0.5], [1, 0.841344746], [-1.959963985, 0.025], [2.326347874, 0.99], [-3, 0.001349898]] as const) {
      expect(Math.abs(normalCdf(z) - p)).toBeLessThan(1e-6);
    }
  });

  it('reads lognormal quantiles off the latency grid within 2 %', () => {
    const cdf = new Float64Array(GRID_SIZE);
    const median = 40, sigma = 0.5;
    addShiftedLognormal(cdf, 1000, 0, Math.log(median), sigma);
    for (const [q, z] of [[0.5, 0], [0.9, 1.281551566], [0.99, 2.326347874]] as const) {
      const exact = median * Math.exp(sigma * z);
      expect(Math.abs(gridQuantile(cdf, 1000, q)! / exact - 1)).toBeLessThan(0.02);
    }
    expect(gridCdfAt(cdf, 1000, median)).toBeCloseTo(0.5, 2);
  });

  it('mixes shifted, truncated components and point masses by weight', () => {
    const cdf = new Float64Array(GRID_SIZE);
    // 90 % fast requests, 10 % that timed out once at 300 ms: the p99 sits in the slow group.
    addShiftedLognormal(cdf, 900, 0, Math.log(20), 0.3, 300);
    addShiftedLognormal(cdf, 100, 300, Math.log(20), 0.3, 600);
    addPointMass(cdf, 0, 5000);
    expect(gridQuantile(cdf, 1000, 0.5)!).toBeLessThan(30);
    expect(gridQuantile(cdf, 1000, 0.99)!).toBeGreaterThan(300);
    expect(gridCdfAt(cdf, 1000, 250)).toBeCloseTo(0.9, 3);
    expect(gridQuantile(cdf, 0, 0.99)).toBeNull();
  });

  it('draws standard normals from a seed, the same for the same seed', () => {
    const a = normalSampler(prng(3)), b = normalSampler(prng(3));
    const xs = Array.from({ length: 4000 }, () => a());
    expect(Array.from({ length: 4000 }, () => b())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
  });
});
