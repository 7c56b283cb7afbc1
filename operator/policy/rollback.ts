// The rollback rule: in enforce mode, when the SLO was met as the last decision was made, that
// decision changed what is served, and the SLO is breached now (within two decision
// intervals), the last weights and retry settings under which it was met come back at once,
// and are held for a while (rollback-hold.ts says what the hold still lets through).
import type { RegionWeight } from '../api/types.ts';
import { largestRemainder } from '../base/percent.ts';
import { formatFraction, formatMs } from './explain.ts';
import type { GuardState } from './guard-state.ts';
import type { SloStatus } from './slo.ts';

/** A breach later than this many decision intervals after a decision is not blamed on it. */
export const ROLLBACK_WINDOW_INTERVALS = 2;
/** Decisions after a rollback during which proposals are not followed. */
export const ROLLBACK_HOLD_DECISIONS = 2;

/** `weights` as integer percents in `regions` order (missing regions 0); undefined when all are 0. */
export function percentOf(weights: readonly RegionWeight[] | undefined, regions: readonly string[]): number[] | undefined {
  if (!weights) return undefined;
  const byRegion = new Map(weights.map((w) => [w.region, w.weight]));
  const raw = regions.map((r) => {
    const w = byRegion.get(r) ?? 0;
    return Number.isFinite(w) ? Math.max(0, w) : 0;
  });
  return raw.some((w) => w > 0) ? largestRemainder(raw) : undefined;
}

/** The last good weights to roll back to, when the rule applies now; undefined otherwise. */
export function rollbackDue(
  state: GuardState,
  slo: SloStatus,
  at: { mode: string; nowMs: number; decisionIntervalMs: number },
  regions: readonly string[],
): number[] | undefined {
  if (at.mode !== 'enforce' || state.sloBefore !== 'met' || !state.moved || slo.state !== 'breached' || !state.lastGood) return undefined;
  if (state.lastDecisionTime !== undefined) {
    const since = at.nowMs - Date.parse(state.lastDecisionTime);
    if (!(since <= ROLLBACK_WINDOW_INTERVALS * at.decisionIntervalMs)) return undefined;
  }
  const names = new Set(state.lastGood.weights.map((w) => w.region));
  if (names.size !== regions.length || !regions.every((r) => names.has(r))) return undefined;
  return percentOf(state.lastGood.weights, regions);
}

/** The breach in words: "p99 1.2 s of 300 ms, errors 4% of 1%". */
export function sloWords(slo: SloStatus): string {
  const parts: string[] = [];
  if (slo.p99Ms !== null) parts.push(`p99 ${formatMs(slo.p99Ms)} of ${formatMs(slo.objectiveP99Ms)}`);
  if (slo.errorRate !== null) parts.push(`errors ${formatFraction(slo.errorRate)} of ${formatFraction(slo.maxErrorRate)}`);
  return parts.join(', ');
}
