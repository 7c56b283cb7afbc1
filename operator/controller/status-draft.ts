// One reconcile's status: what the object had (`before`), what it will have, and the condition
// updates in between, each stamped with the generation observed and the reconcile's time.
// Reconcilers fill the draft step by step and write it once, only if it differs from before.
import { setCondition, type ConditionUpdate } from '../api/conditions.ts';
import type { Condition } from '../api/types.ts';

export interface StatusWithConditions {
  observedGeneration?: number;
  conditions?: Condition[];
}

export class StatusDraft<S extends StatusWithConditions> {
  readonly before: S;
  readonly status: S;
  readonly generation: number;
  readonly now: Date;

  constructor(before: S | undefined, generation: number, now: Date) {
    this.before = before ?? ({} as S);
    this.status = structuredClone(this.before);
    this.status.observedGeneration = generation;
    this.generation = generation;
    this.now = now;
  }

  /** Sets condition `type` True (ok) or False. */
  set(type: string, ok: boolean, reason: string, message: string): void {
    this.put({ type, status: ok ? 'True' : 'False', reason, message });
  }

  /** Sets a condition computed elsewhere (any status, Unknown included). */
  put(update: ConditionUpdate): void {
    this.status.conditions = setCondition(this.status.conditions, update, this.generation, this.now);
  }

  /** Removes condition `type` (it no longer applies). */
  drop(type: string): void {
    this.status.conditions = (this.status.conditions ?? []).filter((c) => c.type !== type);
  }

  /** Condition `type` as the draft has it now. */
  condition(type: string): Condition | undefined {
    return this.status.conditions?.find((c) => c.type === type);
  }

  /** Condition `type` as the object had it before this reconcile. */
  previous(type: string): Condition | undefined {
    return this.before.conditions?.find((c) => c.type === type);
  }
}
