import { nextOnPhase, phaseOf } from '../../../operator/telemetry/schedule-phase.ts';

describe('schedule phase', () => {
  it('is stable per key and spreads keys over the interval', () => {
    expect(phaseOf('shop/checkout', 10_000)).toBe(phaseOf('shop/checkout', 10_000));
    const phases = Array.from({ length: 1000 }, (_, i) => phaseOf(`ns/route-${i}`, 10_000));
    const perSecond = new Array<number>(10).fill(0);
    for (const p of phases) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(10_000);
      perSecond[Math.floor(p / 1000)]!++;
    }
    // Each tenth of the interval gets about a tenth of the routes.
    for (const n of perSecond) expect(n).toBeGreaterThan(60);
  });

  it('picks the first instant on the phase at least the gap after the last round', () => {
    const key = 'shop/checkout';
    const interval = 10_000;
    const phase = phaseOf(key, interval);
    for (const after of [0, 1234, 99_999, phase, phase + 5_000, phase - 5_001]) {
      const next = nextOnPhase(after, key, interval, 5_000);
      expect(((next - phase) % interval + interval) % interval).toBe(0);
      expect(next - after).toBeGreaterThanOrEqual(5_000);
      expect(next - after).toBeLessThan(15_000);
    }
  });
});
