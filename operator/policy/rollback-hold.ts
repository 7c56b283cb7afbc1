// What a rollback hold still lets through. After a rollback the guard holds the restored
// weights for a few decisions, so that a policy does not undo it at once. The SLO that
// triggered the rollback often broke because an incident began right after the last
// decision, not because of it; holding everything then also keeps load on the region the
// incident hit, until it reads as failing. So the hold lets through the part of a proposal
// that takes load off regions breaking an objective and puts it on the others.
import type { RouteObservation } from './observation.ts';
import { breaksObjective } from './slo.ts';
import { fitToBounds } from './weights.ts';

/**
 * The part of `wanted` (percent) that takes load off regions breaking an objective now (p99
 * over it, or requests failing over the budget after the retries in force): each breaking
 * region between what `wanted` gives it and what it has (`base`), each other region between
 * what it has and what `wanted` gives it. `base` itself when no region breaks one. Pure.
 */
export function offBreaking(o: RouteObservation, base: readonly number[], wanted: readonly number[]): number[] {
  const breaking = o.regions.map((r) => r.weightPercent > 0 && breaksObjective(r, o));
  if (!breaking.some((b) => b)) return [...base];
  return fitToBounds(
    wanted,
    base.map((b, i) => (breaking[i] ? Math.min(b, wanted[i]!) : b)),
    base.map((b, i) => (breaking[i] ? b : Math.max(b, wanted[i]!))),
  );
}
