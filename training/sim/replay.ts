// Replays what the operator recorded: a JSONL file of decision-log records
// (meshpilot.decision/v1 and meshpilot.decision-outcome/v1, operator/telemetry/kafka/EVENTS.md)
// becomes, per route, the sequence of (observation, action, outcome) steps that off-policy
// evaluation scores. Observations are rebuilt with serving's own snapshot → observation
// conversion, from the route's AdaptiveRoute (which the log does not carry: the caller gives it)
// and the intent in force when each decision was made (the previous applied decision's action;
// for a route's first record, the spec's static intent). Reading only: no estimator lives here.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../operator/base/errors.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { observationFromSnapshot, type CurrentIntent } from '../../operator/policy/observe.ts';
import type { PolicyAction, RouteObservation } from '../../operator/policy/features.ts';
import type { RouteSnapshot } from '../../operator/telemetry/types.ts';
import { routeViewOf, specRetries, specWeights } from './route-view.ts';
import { largestRemainder } from '../../operator/base/percent.ts';
import { namespacedKey } from '../../operator/base/object-key.ts';

export const DECISION_SCHEMA = 'meshpilot.decision/v1';
export const OUTCOME_SCHEMA = 'meshpilot.decision-outcome/v1';

const reading = z.object({
  value: z.number().nullable(),
  fresh: z.boolean(),
  ageMs: z.number().nullable(),
  source: z.string().nullable(),
});
const snapshot = z.object({
  route: z.string(),
  atMs: z.number(),
  staleAfterMs: z.number(),
  fresh: z.boolean(),
  sources: z.array(z.string()),
  regions: z.array(
    z.object({
      region: z.string(),
      signals: z.object({ requestRate: reading, errorRate: reading, latencyP50: reading, latencyP90: reading, latencyP99: reading, saturation: reading }),
      health: z.object({ healthy: z.boolean().nullable(), fresh: z.boolean(), ageMs: z.number().nullable(), source: z.string().nullable() }),
      trends: z.object({ requestRate: z.number().nullable(), latencyP99: z.number().nullable() }),
      newestAgeMs: z.number().nullable(),
      fresh: z.boolean(),
    }),
  ),
});
const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 time');
// Within a version fields are only ever added: unknown fields are ignored, not refused.
const decision = z.object({
  schema: z.literal(DECISION_SCHEMA),
  id: z.string().min(1),
  route: z.string().min(1),
  time,
  policy: z.string(),
  modelVersion: z.string().nullable(),
  observation: snapshot,
  features: z.array(z.number()).optional(),
  action: z.object({
    weights: z.array(z.object({ region: z.string(), weight: z.number().min(0) })),
    retryAttempts: z.number().int().min(0),
    perTryTimeoutMs: z.number().min(0),
    timeoutMs: z.number().min(0),
  }),
  actionProbability: z.number().min(0).nullable(),
  applied: z.boolean(),
  reason: z.string(),
});
const outcome = z.object({
  schema: z.literal(OUTCOME_SCHEMA),
  decisionId: z.string().min(1),
  route: z.string().min(1),
  time,
  observation: snapshot,
});

/** One logged decision, as a policy saw it, what it chose, and what was observed one interval later. */
export interface ReplayStep {
  decisionId: string;
  route: string;
  /** ms since the epoch. */
  timeMs: number;
  /** What decided ("model", "heuristic", "spec") and the model version, if any. */
  policy: string;
  modelVersion: string | null;
  observation: RouteObservation;
  action: PolicyAction;
  /** Probability of the action under the policy that took it (null: not recorded). */
  actionProbability: number | null;
  applied: boolean;
  /** The encoded observation the model read, when the record has it. */
  features: number[] | null;
  /** The observation one interval later; null when the outcome record is missing (the log may have gaps). */
  outcome: RouteObservation | null;
  outcomeTimeMs: number | null;
}

export interface ReplayResult {
  /** Per route ("namespace/name"), in the order the decisions were made. */
  routes: Map<string, ReplayStep[]>;
  /** Records of routes that were not given, skipped. */
  otherRoutes: number;
  /** Outcome records whose decision is not in the file. */
  orphanOutcomes: number;
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${path || '(record)'}: ${issue.message}`;
}

/** One decision-log record, validated. */
export type DecisionLogRecord = z.output<typeof decision> | z.output<typeof outcome>;

/**
 * Validates one line of a decision log (a v1 decision or outcome record; unknown fields are
 * ignored). Throws ConfigError starting with `where` (`file:line`) and naming the field.
 */
export function parseDecisionLogLine(line: string, where: string): DecisionLogRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    throw new ConfigError(`${where}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const schemaName = typeof doc === 'object' && doc !== null ? (doc as { schema?: unknown }).schema : undefined;
  const parser = schemaName === DECISION_SCHEMA ? decision : schemaName === OUTCOME_SCHEMA ? outcome : undefined;
  if (!parser) throw new ConfigError(`${where}: schema: ${JSON.stringify(schemaName)} is neither ${DECISION_SCHEMA} nor ${OUTCOME_SCHEMA}`);
  const r = parser.safeParse(doc);
  if (!r.success) throw new ConfigError(`${where}: ${describe(r.error.issues[0]!)}`);
  return r.data;
}

function staticIntent(route: AdaptiveRoute): CurrentIntent {
  const view = routeViewOf(route);
  const percents = largestRemainder(specWeights(view));
  return { weights: view.destinations.map((d, i) => ({ region: d.region, weight: percents[i]! })), ...specRetries(view) };
}

/**
 * Converts the decision-log records in `text` (one JSON object per line; blank lines are
 * skipped) for the given `routes`. Throws ConfigError naming `file`, the line and the field
 * for a line that is not a v1 decision or outcome record. Pure.
 */
export function replayDecisionLog(text: string, routes: readonly AdaptiveRoute[], file = '<inline>'): ReplayResult {
  const byKey = new Map(routes.map((r) => [namespacedKey(r.metadata), r]));
  const steps = new Map<string, ReplayStep[]>();
  const pending = new Map<string, { step: ReplayStep; route: AdaptiveRoute; after: CurrentIntent }>();
  const current = new Map<string, CurrentIntent>();
  let otherRoutes = 0, orphanOutcomes = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    const record = parseDecisionLogLine(line, where);
    const route = byKey.get(record.route);
    if (!route) {
      otherRoutes++;
      return;
    }
    const observe = (s: RouteSnapshot, intent: CurrentIntent) => {
      try {
        return observationFromSnapshot(route, s, intent);
      } catch (e) {
        throw new ConfigError(`${where}: observation: ${(e as Error).message}`, { cause: e });
      }
    };
    if (record.schema === OUTCOME_SCHEMA) {
      const p = pending.get(record.decisionId);
      if (!p) {
        orphanOutcomes++;
        return;
      }
      p.step.outcome = observe(record.observation as RouteSnapshot, p.after);
      p.step.outcomeTimeMs = Date.parse(record.time);
      pending.delete(record.decisionId);
      return;
    }
    const before = current.get(record.route) ?? staticIntent(route);
    const regions = route.spec.destinations.map((d) => d.region);
    const byRegion = new Map(record.action.weights.map((w) => [w.region, w.weight]));
    const unknown = record.action.weights.find((w) => !regions.includes(w.region));
    if (unknown) throw new ConfigError(`${where}: action.weights: region "${unknown.region}" is not a destination of ${record.route}`);
    const percents = regions.map((r) => byRegion.get(r) ?? 0);
    const sum = percents.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) throw new ConfigError(`${where}: action.weights: all zero`);
    const action: PolicyAction = { weights: percents.map((p) => p / sum), retryAttempts: record.action.retryAttempts, perTryTimeoutMs: record.action.perTryTimeoutMs };
    const after: CurrentIntent = record.applied
      ? { weights: regions.map((region, k) => ({ region, weight: percents[k]! })), retryAttempts: action.retryAttempts, perTryTimeoutMs: action.perTryTimeoutMs }
      : before;
    const step: ReplayStep = {
      decisionId: record.id,
      route: record.route,
      timeMs: Date.parse(record.time),
      policy: record.policy,
      modelVersion: record.modelVersion,
      observation: observe(record.observation as RouteSnapshot, before),
      action,
      actionProbability: record.actionProbability,
      applied: record.applied,
      features: record.features ?? null,
      outcome: null,
      outcomeTimeMs: null,
    };
    let list = steps.get(record.route);
    if (!list) steps.set(record.route, (list = []));
    list.push(step);
    pending.set(record.id, { step, route, after });
    current.set(record.route, after);
  });
  return { routes: steps, otherRoutes, orphanOutcomes };
}

/** Reads `file` and replays it (see replayDecisionLog). Throws ConfigError naming the file when it cannot be read. */
export async function readDecisionLog(file: string, routes: readonly AdaptiveRoute[]): Promise<ReplayResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  return replayDecisionLog(text, routes, file);
}
