// Small statistics helpers shared by benchmarks.

/**
 * The q-quantile (0 ≤ q ≤ 1) of `values` by the nearest-rank method: the smallest value such
 * that at least q of the samples are at or below it. NaN for an empty input. Does not modify
 * its argument.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Rounds for a JSON report: `digits` decimals, NaN and infinities become null. */
export function round(value: number, digits = 1): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Reads `--name value` or `--name=value` from a flag list; undefined when absent. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === name) return args[i + 1];
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

/** A comma-separated list of positive integers ("100,1000"), or `fallback` when absent. */
export function intListFlag(args: readonly string[], name: string, fallback: number[]): number[] {
  const raw = flagValue(args, name);
  if (raw === undefined) return fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${name}: expected a comma-separated list of positive integers, got "${raw}"`);
  }
  return list;
}
