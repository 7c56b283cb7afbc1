// The decision log contract: every policy decision (and, one interval later, what was observed
// after it) leaves the operator as a record that offline training can learn from and
// off-policy evaluation can score. The transport is someone else's concern (Kafka today):
// recording never blocks a reconcile and never fails it.
import type { RouteSnapshot } from './types.ts';

export const DECISION_SCHEMA = 'meshpilot.decision/v1';
export const OUTCOME_SCHEMA = 'meshpilot.decision-outcome/v1';

export interface DecisionAction {
  /** Percent per region, summing to 100. */
  weights: { region: string; weight: number }[];
  retryAttempts: number;
  perTryTimeoutMs: number;
  timeoutMs: number;
}

export interface DecisionRecord {
  schema: typeof DECISION_SCHEMA;
  /** Unique id; the outcome record names it. */
  id: string;
  /** "namespace/name". */
  route: string;
  generation: number;
  /** RFC 3339. */
  time: string;
  /** The route's policy mode (enforce, shadow, static). */
  mode: string;
  /** What decided: "spec" (the spec's weights), "heuristic" or "model". */
  policy: string;
  modelVersion: string | null;
  /** What the policy saw. */
  observation: RouteSnapshot;
  /** The encoded observation the model read, when a model decided. */
  features?: number[];
  action: DecisionAction;
  /** Probability of `action` under the deciding policy (1 for deterministic ones); null if unknown. */
  actionProbability: number | null;
  /** Whether the action went to the data plane (false in shadow mode or when the guard held). */
  applied: boolean;
  reason: string;
  /** With spec.policy.shadowModelRef: what the shadow model decided beside it (never served). */
  shadow?: { modelVersion: string | null; action: Omit<DecisionAction, 'timeoutMs'>; reason: string };
}

export interface OutcomeRecord {
  schema: typeof OUTCOME_SCHEMA;
  decisionId: string;
  route: string;
  time: string;
  /** What was observed one decision interval after the decision. */
  observation: RouteSnapshot;
}

export interface DecisionLog {
  /** Queues the record; never blocks, never throws (a full or broken log drops and counts). */
  record(decision: DecisionRecord): void;
  recordOutcome(outcome: OutcomeRecord): void;
  /** Resolves when everything queued so far has been sent or dropped. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
