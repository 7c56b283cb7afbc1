// The guard's rules by name: how it intervened, as CamelCase reasons for metrics, conditions
// and status (guard.ts applies them; its header says what each does).
/** How the guard intervened, as CamelCase reasons (for metrics and conditions). */
export const GUARD_RULES = {
  static: 'StaticMode',
  shadow: 'ShadowMode',
  healthOverride: 'HealthOverride',
  failoverDisabled: 'FailoverDisabled',
  failStatic: 'FailStatic',
  rollback: 'Rollback',
  rollbackHold: 'RollbackHold',
  floor: 'MinWeightFloor',
  probation: 'Probation',
  stepCapped: 'StepCapped',
  retriesClamped: 'RetriesClamped',
  returnToSpec: 'ReturnToSpec',
  noEvidence: 'NoEvidence',
  failoverClosed: 'FailoverClosed',
  spread: 'SpreadWhenAllFailing',
  capacity: 'Capacity',
  retryBudget: 'RetryBudget',
  perTryFloor: 'PerTryTimeoutFloor',
} as const;
export type GuardRule = (typeof GUARD_RULES)[keyof typeof GUARD_RULES];
