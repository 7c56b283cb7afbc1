// Turns reconciles into decision-log records: one per route per decision interval (or sooner
// when the action changed), and for each, one interval later, the outcome observed after it.
// Reconciles also run for status echoes and watch events; without this pacing the log would
// hold many copies of one decision and skew what offline training learns from it.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../base/clock.ts';
import { DECISION_SCHEMA, OUTCOME_SCHEMA, type DecisionLog, type DecisionRecord } from '../telemetry/decision-log.ts';

/** A decision as the reconciler hands it over: the record without what the recorder adds. */
export type Decision = Omit<DecisionRecord, 'schema' | 'id' | 'time'> & {
  /** The route's decision interval: at most one record per interval unless the action changes. */
  intervalMs: number;
};

interface Last {
  id: string;
  atMs: number;
  action: string;
}

export class DecisionRecorder {
  readonly #log: DecisionLog;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #last = new Map<string, Last>();

  constructor(options: { log: DecisionLog; clock: Clock; newId?: () => string }) {
    this.#log = options.log;
    this.#clock = options.clock;
    this.#newId = options.newId ?? randomUUID;
  }

  /** Records `decision` if it is due; returns its id, or undefined when it was not due. */
  record(decision: Decision): string | undefined {
    const now = this.#clock.now();
    const action = JSON.stringify(decision.action);
    const last = this.#last.get(decision.route);
    if (last && last.action === action && now - last.atMs < decision.intervalMs) return undefined;
    const time = new Date(now).toISOString();
    if (last) {
      this.#log.recordOutcome({ schema: OUTCOME_SCHEMA, decisionId: last.id, route: decision.route, time, observation: decision.observation });
    }
    const id = this.#newId();
    const { intervalMs: _interval, ...rest } = decision;
    this.#log.record({ schema: DECISION_SCHEMA, id, time, ...rest });
    this.#last.set(decision.route, { id, atMs: now, action });
    return id;
  }

  forget(route: string): void {
    this.#last.delete(route);
  }
}
