// The AdaptiveRoute reconciler: level-triggered and idempotent. It reads the route from the
// informer cache, validates what the API server's schema checked (defence in depth) and what
// it cannot (the referenced ContactPlan), computes the RouteIntent, publishes it to the
// outputs, and writes status (observedGeneration, Valid/Ready, the weights in force) only
// when it changes. Bad input changes nothing that was working: the last good intent stays
// published and in status, and the conditions and a Warning Event say what is wrong.
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { setCondition } from '../api/conditions.ts';
import { formatDuration, durationInWords } from '../base/duration.ts';
import { MeshpilotError, toMeshpilotError } from '../base/errors.ts';
import { formatIssue } from '../api/schema/validate.ts';
import { API_VERSION, RESOURCES, GROUP, VERSION } from '../api/types.ts';
import type { AdaptiveRoute, AdaptiveRouteStatus, Condition, ContactPlan } from '../api/types.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../api/validate.ts';
import { isNotFound } from '../kube/api-error.ts';
import type { ResourceRef } from '../kube/client.ts';
import type { EventType, InvolvedObject } from '../kube/events.ts';
import { finalizersPatch, withFinalizer, withoutFinalizer } from '../kube/patch.ts';
import type { IntentSink } from '../routing/intent-sink.ts';
import { intentFromSpec, weightSummary, type RouteIntent } from '../routing/route-intent.ts';
import type { SyncReporter } from '../routing/sync-status.ts';
import type { Telemetry } from '../telemetry/telemetry.ts';
import type { RouteSnapshot } from '../telemetry/types.ts';
import type { DecisionRecorder } from './decision-recorder.ts';
import type { Decide } from './decision-batcher.ts';
import type { Decision } from '../policy/policy.ts';
import { POLICY_MODEL, POLICY_REASONS, policyModelCondition, policyStep, recordDecisionInStatus } from './policy-step.ts';
import { parseDuration } from '../base/duration.ts';
import { TELEMETRY_FRESH, TELEMETRY_REASONS, telemetryCondition } from './telemetry-condition.ts';
import { telemetryTarget } from './telemetry-target.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from './controller.ts';
import { statusEqual } from './status-diff.ts';
import { XDS_REASONS, XDS_SYNCED, xdsStatus, xdsSyncedCondition } from './xds-sync-condition.ts';
import { namespaceOf } from '../base/object-key.ts';

/** Lets outputs withdraw what they serve before the route disappears. */
export const ROUTE_FINALIZER = `${GROUP}/cleanup`;

export const ADAPTIVE_ROUTES: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: RESOURCES.adaptiveRoute.plural,
  kind: RESOURCES.adaptiveRoute.kind,
};

export const CONDITION_TYPES = { valid: 'Valid', ready: 'Ready' } as const;

/** Condition reasons and Event reasons of AdaptiveRoutes, CamelCase as Kubernetes expects. */
export const ROUTE_REASONS = {
  specValid: 'SpecValid',
  intentPublished: 'IntentPublished',
  invalidSpec: 'InvalidSpec',
  contactPlanNotFound: 'ContactPlanNotFound',
  contactPlanInvalid: 'ContactPlanInvalid',
  publishFailed: 'PublishFailed',
  intentChanged: 'IntentChanged',
} as const;

/** Read access to an informer's cache. */
export interface ObjectCache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

/** The writes this reconciler makes (KubeApi implements them). */
export interface RouteWriter {
  patchStatus<T extends AdaptiveRoute>(resource: ResourceRef, namespace: string, name: string, status: object): Promise<T>;
  patch<T extends AdaptiveRoute>(resource: ResourceRef, namespace: string, name: string, patch: object): Promise<T>;
}

export interface EventSink {
  record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void>;
}

export interface AdaptiveRouteReconcilerOptions {
  routes: ObjectCache<AdaptiveRoute>;
  contactPlans: ObjectCache<ContactPlan>;
  writer: RouteWriter;
  events: EventSink;
  sink: IntentSink;
  /** The xDS server's per-route ACK/NACK state, for status.xds and the XdsSynced condition. */
  sync?: SyncReporter;
  /** Per-route telemetry: followed while the route is valid, read at every decision. */
  telemetry?: RouteTelemetry;
  /** Where decisions are logged for offline training (none: not logged). */
  decisions?: DecisionRecorder;
  /** The policy (model or heuristic, behind the safety guard); none: the spec's weights are served. */
  decide?: Decide;
  clock?: Clock;
}

/** The part of Telemetry the reconciler uses. */
export type RouteTelemetry = Pick<Telemetry, 'follow' | 'unfollow' | 'status' | 'snapshot'>;

type Verdict =
  | { ok: true; route: AdaptiveRoute; intent: RouteIntent; reason: string }
  | { ok: false; reason: string; message: string };

/** The keys of the routes whose spec references `plan` (same namespace); for the controller's watch. */
export function routesForContactPlan(routes: ObjectCache<AdaptiveRoute>, plan: ContactPlan): string[] {
  const namespace = namespaceOf(plan.metadata);
  return routes
    .list(namespace)
    .filter((r) => r.spec?.delayTolerant?.contactPlanRef?.name === plan.metadata.name)
    .map((r) => `${namespace}/${r.metadata.name}`);
}

/**
 * Why the intent is what it is when this reconciler runs without a policy (tests, tools): the
 * spec's weights. The operator always runs with one (see policy-step.ts).
 */
function decisionReason(route: AdaptiveRoute): string {
  const bounds = 'retries and timeouts at the upper bounds of the spec';
  if (route.spec.policy.mode === 'static') return `static policy: serving the spec's weights, ${bounds}`;
  return `no policy configured: serving the spec's weights, ${bounds}`;
}

function describeIntent(intent: RouteIntent): string {
  return (
    `weights ${weightSummary(intent.destinations)}; ${intent.retries.attempts} ${intent.retries.attempts === 1 ? 'retry' : 'retries'} of ` +
    `${durationInWords(intent.retries.perTryTimeoutMs)} each; timeout ${durationInWords(intent.timeoutMs)}`
  );
}

export class AdaptiveRouteReconciler implements Reconciler {
  readonly #routes: ObjectCache<AdaptiveRoute>;
  readonly #plans: ObjectCache<ContactPlan>;
  readonly #writer: RouteWriter;
  readonly #events: EventSink;
  readonly #sink: IntentSink;
  readonly #sync: SyncReporter | undefined;
  readonly #telemetry: RouteTelemetry | undefined;
  readonly #decisions: DecisionRecorder | undefined;
  readonly #decide: Decide | undefined;
  readonly #clock: Clock;

  constructor(options: AdaptiveRouteReconcilerOptions) {
    this.#routes = options.routes;
    this.#plans = options.contactPlans;
    this.#writer = options.writer;
    this.#events = options.events;
    this.#sink = options.sink;
    this.#sync = options.sync;
    this.#telemetry = options.telemetry;
    this.#decisions = options.decisions;
    this.#decide = options.decide;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * One level-triggered pass for the route `namespace/name`; safe to repeat. Throws a
   * retriable error when the API or the sink failed (the controller retries with backoff);
   * an invalid spec is not an error (it is reported in status and an Event).
   */
  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const cached = this.#routes.get(key);
    if (!cached) {
      // Gone (perhaps force-deleted past the finalizer): make sure nothing is still served.
      await this.#sink.withdraw(key);
      this.#forget(key);
      return {};
    }
    const namespace = namespaceOf(cached.metadata);
    const name = cached.metadata.name;
    if (cached.metadata.deletionTimestamp) {
      await this.#finalize(cached, key, ctx);
      return {};
    }
    let route = cached;
    if (!(route.metadata.finalizers ?? []).includes(ROUTE_FINALIZER)) {
      try {
        route = await this.#writer.patch(ADAPTIVE_ROUTES, namespace, name, finalizersPatch(route, withFinalizer(route, ROUTE_FINALIZER)));
      } catch (e) {
        // Deleted since the cache saw it: the delete event brings us back.
        if (isNotFound(e)) return {};
        throw e;
      }
      ctx.logger.debug('added finalizer');
    }

    const verdict = this.#judge(route);
    const generation = route.metadata.generation ?? 0;
    const now = new Date(this.#clock.now());
    const before = route.status ?? {};
    const status: AdaptiveRouteStatus = structuredClone(before);
    status.observedGeneration = generation;
    let conditions: Condition[] = status.conditions ?? [];
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      conditions = setCondition(conditions, { type, status: ok ? 'True' : 'False', reason, message }, generation, now);
    };

    if (!verdict.ok) {
      condition(CONDITION_TYPES.valid, false, verdict.reason, verdict.message);
      condition(
        CONDITION_TYPES.ready,
        false,
        verdict.reason,
        before.weightSummary
          ? `${verdict.message}; the last good intent (${before.weightSummary}) stays in force`
          : `${verdict.message}; nothing is served for this route until the spec is fixed`,
      );
      status.conditions = conditions;
      if (await this.#writeStatus(route, before, status, ctx)) {
        await this.#events.record(routeRef(route), 'Warning', verdict.reason, verdict.message);
      }
      ctx.logger.info({ reason: verdict.reason, message: verdict.message }, 'route spec rejected; keeping the last good intent');
      return {};
    }

    // Follow the valid spec's sources; an invalid spec leaves the last good one followed.
    this.#telemetry?.follow(telemetryTarget(verdict.route));
    condition(CONDITION_TYPES.valid, true, ROUTE_REASONS.specValid, 'the spec is valid and its references resolve');
    let intent = verdict.intent;
    let decision: Decision | undefined;
    let requeueAfterMs = parseDuration(verdict.route.spec.policy.decisionInterval);
    // One snapshot for the decision and its log record: the window moves while the model
    // runs, and off-policy evaluation rebuilds the model's input from what the log says it saw.
    const snapshot = this.#telemetry?.snapshot(key);
    if (this.#decide) {
      const step = await policyStep({
        key,
        route: verdict.route,
        base: verdict.intent,
        before,
        nowMs: now.getTime(),
        snapshot,
        decide: this.#decide,
      });
      ({ intent, decision, requeueAfterMs } = step);
    }
    try {
      await this.#sink.publish(intent);
    } catch (e) {
      const err = toMeshpilotError(e);
      condition(CONDITION_TYPES.ready, false, ROUTE_REASONS.publishFailed, `the outputs refused the intent: ${err.message}`);
      status.conditions = conditions;
      if (await this.#writeStatus(route, before, status, ctx)) {
        await this.#events.record(routeRef(route), 'Warning', ROUTE_REASONS.publishFailed, err.message);
      }
      throw new MeshpilotError(err.code, `publishing ${key}: ${err.message}`, { retriable: true, cause: e });
    }

    status.weights = intent.destinations.map((d) => ({ region: d.region, weight: d.weight }));
    status.weightSummary = weightSummary(intent.destinations);
    status.regionCount = intent.destinations.length;
    status.retryAttempts = intent.retries.attempts;
    status.perTryTimeout = formatDuration(intent.retries.perTryTimeoutMs);
    status.timeout = formatDuration(intent.timeoutMs);
    const decided = !statusEqual(
      [before.weights, before.retryAttempts, before.perTryTimeout, before.timeout],
      [status.weights, status.retryAttempts, status.perTryTimeout, status.timeout],
    );
    if (decision) {
      recordDecisionInStatus(status, decision, now.toISOString());
      const model = policyModelCondition(verdict.route, decision);
      if (model) conditions = setCondition(conditions, model, generation, now);
      else conditions = conditions.filter((c) => c.type !== POLICY_MODEL);
    } else if (!this.#decide) {
      if (decided || !status.lastDecisionTime) status.lastDecisionTime = now.toISOString();
      status.lastDecisionReason = verdict.reason;
    }
    condition(CONDITION_TYPES.ready, true, ROUTE_REASONS.intentPublished, `${describeIntent(intent)} (${status.lastDecisionReason ?? verdict.reason})`);
    const sync = intent.outputs.xds ? this.#sync?.syncStatus(key) : undefined;
    if (sync) {
      status.xds = xdsStatus(sync);
      conditions = setCondition(conditions, xdsSyncedCondition(sync), generation, now);
    } else {
      delete status.xds;
      conditions = conditions.filter((c) => c.type !== XDS_SYNCED);
    }
    const telemetry = this.#telemetry?.status(key);
    const previousTelemetry = before.conditions?.find((c) => c.type === TELEMETRY_FRESH);
    if (telemetry) conditions = setCondition(conditions, telemetryCondition(telemetry, previousTelemetry), generation, now);
    status.conditions = conditions;
    const wasRejected = before.conditions?.some((c) => c.type === XDS_SYNCED && c.reason === XDS_REASONS.nacked) ?? false;
    await this.#writeStatus(route, before, status, ctx);
    if (sync && sync.nacked > 0 && !wasRejected) {
      await this.#events.record(routeRef(route), 'Warning', XDS_REASONS.nacked, xdsSyncedCondition(sync).message);
    }
    if (decided) {
      await this.#events.record(routeRef(route), 'Normal', ROUTE_REASONS.intentChanged, describeIntent(intent));
      ctx.logger.info({ weights: status.weightSummary }, 'intent changed');
    }
    const telemetryNow = status.conditions.find((c) => c.type === TELEMETRY_FRESH);
    if (telemetryNow && telemetryNow.reason !== previousTelemetry?.reason) await this.#telemetryEvent(route, telemetryNow, previousTelemetry, ctx);
    if (decision) await this.#decisionEvents(route, decision, before, status, ctx);
    if (decision || !this.#decide) this.#recordDecision(verdict.route, key, snapshot, intent, decision ?? verdict.reason);
    return this.#telemetry || this.#decisions || this.#decide ? { requeueAfterMs } : {};
  }

  /** A Warning when the guard rolled back, and when a referenced model is refused (once, on the change). */
  async #decisionEvents(route: AdaptiveRoute, decision: Decision, before: AdaptiveRouteStatus, status: AdaptiveRouteStatus, ctx: ReconcileContext): Promise<void> {
    if (decision.rules.includes('Rollback')) {
      await this.#events.record(routeRef(route), 'Warning', POLICY_REASONS.rollback, decision.reason);
      ctx.logger.warn({ reason: decision.reason }, 'rolled back to the last good weights');
    }
    const was = before.conditions?.find((c) => c.type === POLICY_MODEL);
    const now = status.conditions?.find((c) => c.type === POLICY_MODEL);
    if (now?.reason === POLICY_REASONS.refused && was?.reason !== POLICY_REASONS.refused) {
      await this.#events.record(routeRef(route), 'Warning', POLICY_REASONS.refused, now.message);
      ctx.logger.warn({ message: now.message }, 'model refused; the heuristic decides');
    }
  }

  /** A Warning when data goes stale, a Normal when it comes back: the moments an operator cares about. */
  async #telemetryEvent(route: AdaptiveRoute, now: Condition, before: Condition | undefined, ctx: ReconcileContext): Promise<void> {
    if (now.reason === TELEMETRY_REASONS.stale) {
      await this.#events.record(routeRef(route), 'Warning', TELEMETRY_REASONS.stale, now.message);
      ctx.logger.warn({ message: now.message }, 'telemetry stale');
    } else if (now.reason === TELEMETRY_REASONS.fresh && before !== undefined) {
      await this.#events.record(routeRef(route), 'Normal', TELEMETRY_REASONS.fresh, now.message);
      ctx.logger.info({ message: now.message }, 'telemetry fresh');
    }
  }

  /**
   * Logs the decision for offline training (see DecisionRecorder) with `observation`, the
   * snapshot it was decided from. The action is what was decided (in shadow mode: not what is
   * served); without a policy it is the spec's intent.
   */
  #recordDecision(route: AdaptiveRoute, key: string, observation: RouteSnapshot | undefined, intent: RouteIntent, decided: Decision | string): void {
    if (!this.#decisions || !observation) return;
    const d = typeof decided === 'string' ? undefined : decided;
    this.#decisions.record({
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
    });
  }

  #forget(key: string): void {
    this.#telemetry?.unfollow(key);
    this.#decisions?.forget(key);
  }

  /** Validates the route and resolves its references; never throws. */
  #judge(route: AdaptiveRoute): Verdict {
    const result = validateAdaptiveRoute(route);
    if (!result.ok) {
      return { ok: false, reason: ROUTE_REASONS.invalidSpec, message: result.issues.map(formatIssue).join('; ') };
    }
    const valid = result.value;
    const planName = valid.spec.delayTolerant?.contactPlanRef.name;
    if (planName !== undefined) {
      const namespace = namespaceOf(valid.metadata);
      const field = 'spec.delayTolerant.contactPlanRef.name';
      const plan = this.#plans.get(`${namespace}/${planName}`);
      if (!plan) {
        return {
          ok: false,
          reason: ROUTE_REASONS.contactPlanNotFound,
          message: `${field}: ContactPlan "${planName}" not found in namespace "${namespace}"`,
        };
      }
      const planResult = validateContactPlan(plan);
      if (!planResult.ok) {
        return {
          ok: false,
          reason: ROUTE_REASONS.contactPlanInvalid,
          message: `${field}: ContactPlan "${planName}" is invalid: ${planResult.issues.map(formatIssue).join('; ')}`,
        };
      }
    }
    try {
      return { ok: true, route: valid, intent: intentFromSpec(valid), reason: decisionReason(valid) };
    } catch (e) {
      return { ok: false, reason: ROUTE_REASONS.invalidSpec, message: toMeshpilotError(e).message };
    }
  }

  /** Writes `status` if it differs from `before`; true if written. A vanished object is not an error. */
  async #writeStatus(route: AdaptiveRoute, before: AdaptiveRouteStatus, status: AdaptiveRouteStatus, ctx: ReconcileContext): Promise<boolean> {
    if (statusEqual(before, status)) return false;
    try {
      await this.#writer.patchStatus(ADAPTIVE_ROUTES, namespaceOf(route.metadata), route.metadata.name, status);
      ctx.logger.debug({ observedGeneration: status.observedGeneration }, 'status written');
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async #finalize(route: AdaptiveRoute, key: string, ctx: ReconcileContext): Promise<void> {
    this.#forget(key);
    if (!(route.metadata.finalizers ?? []).includes(ROUTE_FINALIZER)) return;
    await this.#sink.withdraw(key);
    try {
      await this.#writer.patch(
        ADAPTIVE_ROUTES,
        namespaceOf(route.metadata),
        route.metadata.name,
        finalizersPatch(route, withoutFinalizer(route, ROUTE_FINALIZER)),
      );
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    ctx.logger.info('intent withdrawn; finalizer removed');
  }
}

/** An AdaptiveRoute as an Event's involved object (list items may lack apiVersion/kind). */
export function routeRef(route: AdaptiveRoute): InvolvedObject {
  return { apiVersion: API_VERSION, kind: RESOURCES.adaptiveRoute.kind, metadata: route.metadata };
}
