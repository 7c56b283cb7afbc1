// What the decision log says of one reconcile's decision, for offline training and off-policy
// evaluation: the observation it was decided from, what was decided (in shadow mode: not what
// is served) and with what probability, and the shadow model's proposal beside it. Without a
// policy, the spec's intent is the action, taken with certainty.
import type { AdaptiveRoute } from '../api/types.ts';
import { parseDuration } from '../base/duration.ts';
import type { Decision } from '../policy/policy.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import type { RouteSnapshot } from '../telemetry/types.ts';
import type { Decision as RecordedDecision } from './decision-recorder.ts';

/** The record of `decided` (a Decision, or the reason of the spec's intent) for `route`, decided from `observation`. */
export function decisionRecord(route: AdaptiveRoute, key: string, observation: RouteSnapshot, intent: RouteIntent, decided: Decision | string): RecordedDecision {
  const d = typeof decided === 'string' ? undefined : decided;
  return {
    route: key,
    generation: route.metadata.generation ?? 0,
    mode: route.spec.policy.mode,
    policy: d?.decidedBy ?? intent.source.decidedBy,
    modelVersion: d?.model?.version ?? null,
    observation,
    ...(d?.features ? { features: d.features } : {}),
    action: {
      weights: d ? d.weights.map((w) => ({ ...w })) : intent.destinations.map((x) => ({ region: x.region, weight: x.weight })),
      retryAttempts: d?.retryAttempts ?? intent.retries.attempts,
      perTryTimeoutMs: d?.perTryTimeoutMs ?? intent.retries.perTryTimeoutMs,
      timeoutMs: intent.timeoutMs,
    },
    actionProbability: d ? d.actionProbability : 1,
    applied: d ? d.applied : true,
    reason: d ? d.reason : (decided as string),
    intervalMs: parseDuration(route.spec.policy.decisionInterval),
    ...(d?.shadow
      ? {
          shadow: {
            modelVersion: d.shadow.model?.version ?? null,
            action: { weights: d.shadow.weights.map((w) => ({ ...w })), retryAttempts: d.shadow.retryAttempts, perTryTimeoutMs: d.shadow.perTryTimeoutMs },
            reason: d.shadow.reason,
          },
        }
      : {}),
  };
}
