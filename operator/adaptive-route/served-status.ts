// The status step of a reconcile: what the route serves now, written into the draft — the
// intent in force (weights, retries, timeouts), the decision that chose it, and the
// conditions that say how far it got: Ready, PolicyModel, XdsSynced, TelemetryFresh and
// Supported. Pure: the reconciler writes the draft and announces the changes afterwards.
import { CONDITION_TYPES, ROUTE_REASONS, SUPPORT_REASONS } from '../api/condition-types.ts';
import type { AdaptiveRoute, AdaptiveRouteStatus } from '../api/types.ts';
import { unsupportedFields } from '../api/unsupported-fields.ts';
import { durationInWords, formatDuration } from '../base/duration.ts';
import { statusEqual } from '../controller/status-diff.ts';
import type { StatusDraft } from '../controller/status-draft.ts';
import type { Decision } from '../policy/policy.ts';
import { weightSummary, type RouteIntent } from '../routing/route-intent.ts';
import type { OutputSyncStatus } from '../routing/sync-status.ts';
import type { TelemetryStatus } from '../telemetry/telemetry.ts';
import { policyModelCondition, recordDecisionInStatus } from './policy-step.ts';
import { telemetryCondition } from './telemetry-condition.ts';
import { xdsStatus, xdsSyncedCondition } from './xds-sync-condition.ts';

export interface Served {
  /** Validated and defaulted. */
  route: AdaptiveRoute;
  intent: RouteIntent;
  /** The decision made in this reconcile; none when one was not due, or without a policy. */
  decision?: Decision;
  /** Whether the reconciler runs with a policy. */
  hasPolicy: boolean;
  /** Why the spec's intent is what it is (without a policy). */
  specReason: string;
  sync?: OutputSyncStatus;
  telemetry?: TelemetryStatus;
}

/** The intent in a sentence, for the Ready condition and the IntentChanged Event. */
export function describeIntent(intent: RouteIntent): string {
  return (
    `weights ${weightSummary(intent.destinations)}; ${intent.retries.attempts} ${intent.retries.attempts === 1 ? 'retry' : 'retries'} of ` +
    `${durationInWords(intent.retries.perTryTimeoutMs)} each; timeout ${durationInWords(intent.timeoutMs)}`
  );
}

/** Fills `draft` with what is served; true when the intent in force changed (weights, retries or timeouts). */
export function describeServed(draft: StatusDraft<AdaptiveRouteStatus>, served: Served): boolean {
  const { status, before } = draft;
  const { intent, decision } = served;
  status.weights = intent.destinations.map((d) => ({ region: d.region, weight: d.weight }));
  status.weightSummary = weightSummary(intent.destinations);
  status.regionCount = intent.destinations.length;
  status.retryAttempts = intent.retries.attempts;
  status.perTryTimeout = formatDuration(intent.retries.perTryTimeoutMs);
  status.timeout = formatDuration(intent.timeoutMs);
  const changed = !statusEqual(
    [before.weights, before.retryAttempts, before.perTryTimeout, before.timeout],
    [status.weights, status.retryAttempts, status.perTryTimeout, status.timeout],
  );
  if (decision) {
    recordDecisionInStatus(status, decision, draft.now.toISOString());
    const model = policyModelCondition(served.route, decision);
    if (model) draft.put(model);
    else draft.drop(CONDITION_TYPES.policyModel);
  } else if (!served.hasPolicy) {
    if (changed || !status.lastDecisionTime) status.lastDecisionTime = draft.now.toISOString();
    status.lastDecisionReason = served.specReason;
  }
  draft.set(CONDITION_TYPES.ready, true, ROUTE_REASONS.intentPublished, `${describeIntent(intent)} (${status.lastDecisionReason ?? served.specReason})`);
  describeSync(draft, served.sync);
  if (served.telemetry) draft.put(telemetryCondition(served.telemetry, draft.previous(CONDITION_TYPES.telemetryFresh)));
  describeSupport(draft, served.route);
  return changed;
}

/** status.xds and XdsSynced while the xDS output carries the route; neither otherwise. */
function describeSync(draft: StatusDraft<AdaptiveRouteStatus>, sync: OutputSyncStatus | undefined): void {
  if (sync) {
    draft.status.xds = xdsStatus(sync);
    draft.put(xdsSyncedCondition(sync));
  } else {
    delete draft.status.xds;
    draft.drop(CONDITION_TYPES.xdsSynced);
  }
}

/** Supported: False naming every field no output carries yet (see api/unsupported-fields.ts). */
export function describeSupport(draft: StatusDraft<AdaptiveRouteStatus>, route: AdaptiveRoute): void {
  const unsupported = unsupportedFields(route.spec);
  if (unsupported.length === 0) {
    draft.set(CONDITION_TYPES.supported, true, SUPPORT_REASONS.allSupported, 'every field of the spec is carried by an output');
  } else {
    draft.set(CONDITION_TYPES.supported, false, SUPPORT_REASONS.notImplemented, unsupported.map((u) => `${u.field}: ${u.message}`).join('; '));
  }
}
