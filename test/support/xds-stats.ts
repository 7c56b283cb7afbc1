// Statistics for counting tests: is an observed traffic split consistent with the weights
// that were configured? Each destination's count out of n picks is Binomial(n, p), so the
// tolerance is a number of standard deviations sqrt(n·p·(1−p)), never a fixed count.
import { appendFileSync } from 'node:fs';

export interface ShareCheck {
  key: string;
  expectedShare: number;
  observed: number;
  expected: number;
  low: number;
  high: number;
  ok: boolean;
}

/** The interval n·p ± sigmas·sqrt(n·p·(1−p)), clamped to [0, n]. */
export function binomialInterval(n: number, p: number, sigmas: number): { expected: number; low: number; high: number } {
  const expected = n * p;
  const spread = sigmas * Math.sqrt(n * p * (1 - p));
  return { expected, low: Math.max(0, expected - spread), high: Math.min(n, expected + spread) };
}

/**
 * Checks each key's count against its expected share of the total (shares are normalised,
 * so percent weights work). Keys with share 0 must have count 0. With 3 keys at 4.5 sigma
 * the chance that a correct split fails is below 2·10⁻⁵.
 */
export function checkSplit(counts: Record<string, number>, shares: Record<string, number>, sigmas = 4.5): ShareCheck[] {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const weightSum = Object.values(shares).reduce((a, b) => a + b, 0);
  const keys = new Set([...Object.keys(counts), ...Object.keys(shares)]);
  return [...keys].sort().map((key) => {
    const p = (shares[key] ?? 0) / weightSum;
    const observed = counts[key] ?? 0;
    const { expected, low, high } = binomialInterval(total, p, sigmas);
    return { key, expectedShare: p, observed, expected, low, high, ok: observed >= low && observed <= high };
  });
}

/** A one-line summary for logs and assertion messages: `eu-west=1402 (70%: 1308..1492) ...`. */
export function describeSplit(checks: ShareCheck[]): string {
  return checks
    .map((c) => `${c.key}=${c.observed} (${Math.round(c.expectedShare * 1000) / 10}%: ${Math.ceil(c.low)}..${Math.floor(c.high)})${c.ok ? '' : ' OUT'}`)
    .join(' ');
}

/**
 * Appends one JSON line of measurements to the file named by MESHPILOT_XDS_MEASUREMENTS,
 * when set, so a run can report the splits and failure counts it saw. A no-op otherwise.
 */
export function recordMeasurement(test: string, data: Record<string, unknown>): void {
  const file = process.env.MESHPILOT_XDS_MEASUREMENTS;
  if (file) appendFileSync(file, `${JSON.stringify({ test, ...data })}\n`);
}
