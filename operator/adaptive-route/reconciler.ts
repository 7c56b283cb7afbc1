// The AdaptiveRoute reconciler: level-triggered and idempotent. One pass reads the route from
// the informer cache and runs five named steps: validate (judge.ts) → decide (policy-step.ts)
// → publish (the outputs) → status (served-status.ts) → events (route-events.ts), writing
// status once, only when it changes. Bad input changes nothing that was working: the last
// good intent stays published and in status, and the conditions and a Warning Event say
// what is wrong.
import { CONDITION_TYPES, ROUTE_REASONS } from '../api/condition-types.ts';
import type { AdaptiveRoute, AdaptiveRouteStatus, ContactPlan } from '../api/types.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { parseDuration } from '../base/duration.ts';
import { MeshpilotError, toMeshpilotError } from '../base/errors.ts';
import { namespaceOf } from '../base/object-key.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../controller/controller.ts';
import type { EventSink, ObjectCache } from '../controller/ports.ts';
import { statusEqual } from '../controller/status-diff.ts';
import { StatusDraft } from '../controller/status-draft.ts';
import { isNotFound } from '../kube/api-error.ts';
import { finalizersPatch, withFinalizer, withoutFinalizer } from '../kube/patch.ts';
import type { Decision } from '../policy/policy.ts';
import type { IntentSink } from '../routing/intent-sink.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import type { SyncReporter } from '../routing/sync-status.ts';
import type { Telemetry } from '../telemetry/telemetry.ts';
import type { RouteSnapshot } from '../telemetry/types.ts';
import type { Decide } from './decision-batcher.ts';
import { decisionRecord } from './decision-record.ts';
import type { DecisionRecorder } from './decision-recorder.ts';
import { judgeRoute, type Verdict } from './judge.ts';
import { policyStep } from './policy-step.ts';
import { ADAPTIVE_ROUTES, ROUTE_FINALIZER, routeRef, type RouteWriter } from './resource.ts';
import { announce } from './route-events.ts';
import { describeServed } from './served-status.ts';
import { telemetryTarget } from './telemetry-target.ts';

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

type Draft = StatusDraft<AdaptiveRouteStatus>;
type Accepted = Extract<Verdict, { ok: true }>;

/** What the decide step chose to serve. */
interface Chosen {
  intent: RouteIntent;
  decision?: Decision;
  requeueAfterMs: number;
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
    if (cached.metadata.deletionTimestamp) {
      await this.#finalize(cached, key, ctx);
      return {};
    }
    const route = await this.#withFinalizer(cached, ctx);
    if (!route) return {};
    const draft: Draft = new StatusDraft(route.status, route.metadata.generation ?? 0, new Date(this.#clock.now()));
    const verdict = judgeRoute(route, this.#plans);
    if (!verdict.ok) return this.#rejected(route, verdict, draft, ctx);

    // Follow the valid spec's sources; an invalid spec leaves the last good one followed.
    this.#telemetry?.follow(telemetryTarget(verdict.route));
    draft.set(CONDITION_TYPES.valid, true, ROUTE_REASONS.specValid, 'the spec is valid and its references resolve');
    // One snapshot for the decision and its log record: the window moves while the model
    // runs, and off-policy evaluation rebuilds the model's input from what the log says it saw.
    const snapshot = this.#telemetry?.snapshot(key);
    const chosen = await this.#choose(key, verdict, draft, snapshot);
    await this.#publish(key, route, chosen.intent, draft, ctx);
    const sync = chosen.intent.outputs.xds ? this.#sync?.syncStatus(key) : undefined;
    const telemetry = this.#telemetry?.status(key);
    const changed = describeServed(draft, {
      route: verdict.route,
      intent: chosen.intent,
      ...(chosen.decision ? { decision: chosen.decision } : {}),
      hasPolicy: this.#decide !== undefined,
      specReason: verdict.reason,
      ...(sync ? { sync } : {}),
      ...(telemetry ? { telemetry } : {}),
    });
    await this.#writeStatus(route, draft, ctx);
    await announce(this.#events, { route, draft, intent: chosen.intent, changed, ...(chosen.decision ? { decision: chosen.decision } : {}), ...(sync ? { sync } : {}) }, ctx);
    if (snapshot && (chosen.decision || !this.#decide)) {
      this.#decisions?.record(decisionRecord(verdict.route, key, snapshot, chosen.intent, chosen.decision ?? verdict.reason));
    }
    return this.#telemetry || this.#decisions || this.#decide ? { requeueAfterMs: chosen.requeueAfterMs } : {};
  }

  /** The decide step: the policy's choice when one is due, else what status records; the spec's intent without a policy. */
  async #choose(key: string, verdict: Accepted, draft: Draft, snapshot: RouteSnapshot | undefined): Promise<Chosen> {
    const requeueAfterMs = parseDuration(verdict.route.spec.policy.decisionInterval);
    if (!this.#decide) return { intent: verdict.intent, requeueAfterMs };
    return policyStep({
      key,
      route: verdict.route,
      base: verdict.intent,
      before: draft.before,
      nowMs: draft.now.getTime(),
      snapshot,
      decide: this.#decide,
    });
  }

  /** The publish step. When the outputs refuse, Ready says so and the error is retried. */
  async #publish(key: string, route: AdaptiveRoute, intent: RouteIntent, draft: Draft, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#sink.publish(intent);
    } catch (e) {
      const err = toMeshpilotError(e);
      draft.set(CONDITION_TYPES.ready, false, ROUTE_REASONS.publishFailed, `the outputs refused the intent: ${err.message}`);
      if (await this.#writeStatus(route, draft, ctx)) {
        await this.#events.record(routeRef(route), 'Warning', ROUTE_REASONS.publishFailed, err.message);
      }
      throw new MeshpilotError(err.code, `publishing ${key}: ${err.message}`, { retriable: true, cause: e });
    }
  }

  /** A refused spec: Valid and Ready say why, the last good intent stays served, one Warning. */
  async #rejected(route: AdaptiveRoute, verdict: Exclude<Verdict, { ok: true }>, draft: Draft, ctx: ReconcileContext): Promise<ReconcileResult> {
    const last = draft.before.weightSummary;
    draft.set(CONDITION_TYPES.valid, false, verdict.reason, verdict.message);
    draft.set(
      CONDITION_TYPES.ready,
      false,
      verdict.reason,
      last ? `${verdict.message}; the last good intent (${last}) stays in force` : `${verdict.message}; nothing is served for this route until the spec is fixed`,
    );
    if (await this.#writeStatus(route, draft, ctx)) {
      await this.#events.record(routeRef(route), 'Warning', verdict.reason, verdict.message);
    }
    ctx.logger.info({ reason: verdict.reason, message: verdict.message }, 'route spec rejected; keeping the last good intent');
    return {};
  }

  /** The route with the finalizer added if it lacked it; undefined when it was deleted meanwhile. */
  async #withFinalizer(route: AdaptiveRoute, ctx: ReconcileContext): Promise<AdaptiveRoute | undefined> {
    if ((route.metadata.finalizers ?? []).includes(ROUTE_FINALIZER)) return route;
    try {
      const patched = await this.#writer.patch<AdaptiveRoute>(
        ADAPTIVE_ROUTES,
        namespaceOf(route.metadata),
        route.metadata.name,
        finalizersPatch(route, withFinalizer(route, ROUTE_FINALIZER)),
      );
      ctx.logger.debug('added finalizer');
      return patched;
    } catch (e) {
      // Deleted since the cache saw it: the delete event brings us back.
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  #forget(key: string): void {
    this.#telemetry?.unfollow(key);
    this.#decisions?.forget(key);
  }

  /** Writes the draft if it differs from what status had; true if written. A vanished object is not an error. */
  async #writeStatus(route: AdaptiveRoute, draft: Draft, ctx: ReconcileContext): Promise<boolean> {
    if (statusEqual(draft.before, draft.status)) return false;
    try {
      await this.#writer.patchStatus(ADAPTIVE_ROUTES, namespaceOf(route.metadata), route.metadata.name, draft.status);
      ctx.logger.debug({ observedGeneration: draft.status.observedGeneration }, 'status written');
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
      await this.#writer.patch(ADAPTIVE_ROUTES, namespaceOf(route.metadata), route.metadata.name, finalizersPatch(route, withoutFinalizer(route, ROUTE_FINALIZER)));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    ctx.logger.info('intent withdrawn; finalizer removed');
  }
}
