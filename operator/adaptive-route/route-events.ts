// The events step of a reconcile: the Events (and log lines) for the moments an operator cares
// about, each once, on the change — the intent changed, a node rejected it, telemetry went
// stale or came back, the guard rolled back, a model was refused, the spec asks for
// something no output carries. Reads the draft after the status step; writes nothing else.
import { CONDITION_TYPES, POLICY_REASONS, ROUTE_REASONS, SUPPORT_REASONS, TELEMETRY_REASONS, XDS_REASONS } from '../api/condition-types.ts';
import type { AdaptiveRoute, AdaptiveRouteStatus, Condition } from '../api/types.ts';
import type { ReconcileContext } from '../controller/controller.ts';
import type { EventSink } from '../controller/ports.ts';
import type { StatusDraft } from '../controller/status-draft.ts';
import type { Decision } from '../policy/policy.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import type { OutputSyncStatus } from '../routing/sync-status.ts';
import { routeRef } from './resource.ts';
import { describeIntent } from './served-status.ts';
import { xdsSyncedCondition } from './xds-sync-condition.ts';

export interface RouteChange {
  route: AdaptiveRoute;
  draft: StatusDraft<AdaptiveRouteStatus>;
  intent: RouteIntent;
  /** True when the intent in force changed. */
  changed: boolean;
  decision?: Decision;
  sync?: OutputSyncStatus;
}

/** Records the Events `change` calls for, comparing the draft with what status said before. */
export async function announce(events: EventSink, change: RouteChange, ctx: ReconcileContext): Promise<void> {
  const { route, draft } = change;
  const ref = routeRef(route);
  const wasRejected = draft.previous(CONDITION_TYPES.xdsSynced)?.reason === XDS_REASONS.nacked;
  if (change.sync && change.sync.nacked > 0 && !wasRejected) {
    await events.record(ref, 'Warning', XDS_REASONS.nacked, xdsSyncedCondition(change.sync).message);
  }
  if (change.changed) {
    await events.record(ref, 'Normal', ROUTE_REASONS.intentChanged, describeIntent(change.intent));
    ctx.logger.info({ weights: draft.status.weightSummary }, 'intent changed');
  }
  await telemetryEvent(events, route, draft, ctx);
  if (change.decision) await decisionEvents(events, route, change.decision, draft, ctx);
  await supportEvent(events, route, draft, ctx);
}

/** A Warning when data goes stale, a Normal when it comes back. */
async function telemetryEvent(events: EventSink, route: AdaptiveRoute, draft: StatusDraft<AdaptiveRouteStatus>, ctx: ReconcileContext): Promise<void> {
  const now = draft.condition(CONDITION_TYPES.telemetryFresh);
  const before = draft.previous(CONDITION_TYPES.telemetryFresh);
  if (!now || now.reason === before?.reason) return;
  if (now.reason === TELEMETRY_REASONS.stale) {
    await events.record(routeRef(route), 'Warning', TELEMETRY_REASONS.stale, now.message);
    ctx.logger.warn({ message: now.message }, 'telemetry stale');
  } else if (now.reason === TELEMETRY_REASONS.fresh && before !== undefined) {
    await events.record(routeRef(route), 'Normal', TELEMETRY_REASONS.fresh, now.message);
    ctx.logger.info({ message: now.message }, 'telemetry fresh');
  }
}

/** A Warning when the guard rolled back, and when a referenced model is refused (once, on the change). */
async function decisionEvents(events: EventSink, route: AdaptiveRoute, decision: Decision, draft: StatusDraft<AdaptiveRouteStatus>, ctx: ReconcileContext): Promise<void> {
  if (decision.rules.includes('Rollback')) {
    await events.record(routeRef(route), 'Warning', POLICY_REASONS.rollback, decision.reason);
    ctx.logger.warn({ reason: decision.reason }, 'rolled back to the last good weights');
  }
  const was = draft.previous(CONDITION_TYPES.policyModel);
  const now = draft.condition(CONDITION_TYPES.policyModel);
  if (now?.reason === POLICY_REASONS.refused && was?.reason !== POLICY_REASONS.refused) {
    await events.record(routeRef(route), 'Warning', POLICY_REASONS.refused, now.message);
    ctx.logger.warn({ message: now.message }, 'model refused; the heuristic decides');
  }
}

/** A Warning when the spec starts asking for something no output carries (or asks for something else). */
async function supportEvent(events: EventSink, route: AdaptiveRoute, draft: StatusDraft<AdaptiveRouteStatus>, ctx: ReconcileContext): Promise<void> {
  const now: Condition | undefined = draft.condition(CONDITION_TYPES.supported);
  const before = draft.previous(CONDITION_TYPES.supported);
  if (now?.reason !== SUPPORT_REASONS.notImplemented || (before?.reason === now.reason && before.message === now.message)) return;
  await events.record(routeRef(route), 'Warning', SUPPORT_REASONS.notImplemented, now.message);
  ctx.logger.warn({ message: now.message }, 'the spec asks for fields no output carries yet');
}
