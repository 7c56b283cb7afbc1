// Status conditions (metav1.Condition), keyed by type. lastTransitionTime moves only when a
// condition's status flips, so it tells a user since when something has been true or false,
// however often the reconciler rewrites the condition.

import type { Condition } from './types.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** CamelCase, e.g. "SpecInvalid". */
  reason: string;
  message: string;
}

/** metav1.Condition's reason pattern; the apiserver refuses a status with any other reason. */
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const TYPE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const MAX_MESSAGE = 32768;

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A copy of `conditions` with `update` set: an existing condition of the same type is replaced
 * in place (keeping its lastTransitionTime when the status is unchanged), a new one is
 * appended. `observedGeneration` is recorded when given. A message longer than the API allows
 * (32768 characters) is truncated. Pure and idempotent for the same `now`. Throws RangeError
 * (a programming error) when the type or reason is not one the API accepts.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  if (!TYPE.test(update.type) || update.type.length > 316) throw new RangeError(`invalid condition type ${JSON.stringify(update.type)}`);
  if (!REASON.test(update.reason) || update.reason.length > 1024) {
    throw new RangeError(`invalid condition reason ${JSON.stringify(update.reason)}: must be CamelCase`);
  }
  const list = conditions ?? [];
  const existing = list.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message.length > MAX_MESSAGE ? `${update.message.slice(0, MAX_MESSAGE - 3)}...` : update.message,
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : formatTime(now),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  return existing ? list.map((c) => (c === existing ? next : c)) : [...list, next];
}

/** The condition of `type`, if any. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True only when a condition of `type` exists and its status is "True". */
export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
