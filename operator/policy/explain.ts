// Words for decisions: what an observation shows and how weights moved, for the reason a route's
// status carries (status.lastDecisionReason). Short enough for a status field, specific enough
// that an operator can tell why traffic moved without reading metrics.
import type { RouteObservation } from './observation.ts';

/** "412ms", "1.5s". */
export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${Math.round(ms / 1000)}s`;
  if (ms >= 1000) return `${(Math.round(ms / 100) / 10).toString()}s`;
  return `${Math.round(ms)}ms`;
}

/** A fraction as a percentage: 0.031 → "3.1%", 0.01 → "1%". */
export function formatFraction(f: number): string {
  const p = f * 100;
  const digits = p >= 10 ? 0 : p >= 1 ? 1 : 2;
  return `${Number(p.toFixed(digits)).toString()}%`;
}

/** "eu-west=60,us-east=40", the same form as status.weightSummary. */
export function weightList(regions: readonly string[], weights: readonly number[]): string {
  return regions.map((r, i) => `${r}=${weights[i] ?? 0}`).join(',');
}

const MAX_ITEMS = 4;

function list(items: string[]): string {
  if (items.length <= MAX_ITEMS) return items.join(', ');
  return `${items.slice(0, MAX_ITEMS).join(', ')} and ${items.length - MAX_ITEMS} more`;
}

/**
 * What `o` shows that matters for a decision: failing health, stale data, regions over the
 * latency objective or the error budget; or, when nothing is wrong, how far within the
 * objective the worst region is.
 */
export function describeSituation(o: RouteObservation): string {
  const { latencyP99Ms: slo, maxErrorRate } = o.objectives;
  const items: string[] = [];
  const stale = o.regions.filter((r) => !r.fresh).map((r) => r.region);
  for (const r of o.regions) {
    if (r.healthy === false) items.push(`${r.region} health failing`);
    if (r.latencyP99Ms !== null && r.latencyP99Ms > slo) items.push(`${r.region} p99 ${formatMs(r.latencyP99Ms)} over the ${formatMs(slo)} objective`);
    if (r.errorRate !== null && r.errorRate > maxErrorRate) {
      items.push(`${r.region} errors ${formatFraction(r.errorRate)} over the ${formatFraction(maxErrorRate)} budget`);
    }
  }
  if (stale.length > 0) items.push(stale.length === o.regions.length ? 'telemetry stale everywhere' : `telemetry stale for ${stale.join(', ')}`);
  if (items.length > 0) return list(items);
  const known = o.regions.filter((r) => r.latencyP99Ms !== null);
  if (known.length === 0) return 'no latency data yet';
  const worst = known.reduce((a, b) => (b.latencyP99Ms! > a.latencyP99Ms! ? b : a));
  return `all regions within objectives (worst p99 ${formatMs(worst.latencyP99Ms!)} in ${worst.region}, objective ${formatMs(slo)})`;
}

/** "moved 10 points from us-east to eu-west (eu-west=60,us-east=40)" or "weights unchanged (…)". */
export function describeMove(regions: readonly string[], before: readonly number[], after: readonly number[]): string {
  const summary = weightList(regions, after);
  const from: string[] = [], to: string[] = [];
  let moved = 0;
  regions.forEach((r, i) => {
    const d = (after[i] ?? 0) - (before[i] ?? 0);
    if (d > 0) {
      to.push(r);
      moved += d;
    } else if (d < 0) from.push(r);
  });
  if (moved === 0) return `weights unchanged (${summary})`;
  return `moved ${moved} point${moved === 1 ? '' : 's'} from ${from.join(', ')} to ${to.join(', ')} (${summary})`;
}
