// The validate step of a reconcile: the route against the CRD schema again (defence in depth:
// the API server checked it, but a stored object may predate a schema change), and what the
// schema cannot say (the referenced ContactPlan exists and is valid). Never throws: a bad
// spec is a verdict, reported in status and an Event, not an error to retry.
import { ROUTE_REASONS } from '../api/condition-types.ts';
import { formatIssue } from '../api/schema/validate.ts';
import type { AdaptiveRoute, ContactPlan } from '../api/types.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../api/validate.ts';
import { toMeshpilotError } from '../base/errors.ts';
import { namespaceOf } from '../base/object-key.ts';
import type { ObjectCache } from '../controller/ports.ts';
import { intentFromSpec, type RouteIntent } from '../routing/route-intent.ts';

export type Verdict =
  | { ok: true; route: AdaptiveRoute; intent: RouteIntent; reason: string }
  | { ok: false; reason: string; message: string };

/** The route validated and defaulted, with the spec's intent; or why not. */
export function judgeRoute(route: AdaptiveRoute, plans: ObjectCache<ContactPlan>): Verdict {
  const result = validateAdaptiveRoute(route);
  if (!result.ok) {
    return { ok: false, reason: ROUTE_REASONS.invalidSpec, message: result.issues.map(formatIssue).join('; ') };
  }
  const valid = result.value;
  const planProblem = contactPlanProblem(valid, plans);
  if (planProblem) return { ok: false, ...planProblem };
  try {
    return { ok: true, route: valid, intent: intentFromSpec(valid), reason: specReason(valid) };
  } catch (e) {
    return { ok: false, reason: ROUTE_REASONS.invalidSpec, message: toMeshpilotError(e).message };
  }
}

/** The keys of the routes whose spec references `plan` (same namespace); for the controller's watch. */
export function routesForContactPlan(routes: ObjectCache<AdaptiveRoute>, plan: ContactPlan): string[] {
  const namespace = namespaceOf(plan.metadata);
  return routes
    .list(namespace)
    .filter((r) => r.spec?.delayTolerant?.contactPlanRef?.name === plan.metadata.name)
    .map((r) => `${namespace}/${r.metadata.name}`);
}

function contactPlanProblem(route: AdaptiveRoute, plans: ObjectCache<ContactPlan>): { reason: string; message: string } | undefined {
  const planName = route.spec.delayTolerant?.contactPlanRef.name;
  if (planName === undefined) return undefined;
  const namespace = namespaceOf(route.metadata);
  const field = 'spec.delayTolerant.contactPlanRef.name';
  const plan = plans.get(`${namespace}/${planName}`);
  if (!plan) {
    return { reason: ROUTE_REASONS.contactPlanNotFound, message: `${field}: ContactPlan "${planName}" not found in namespace "${namespace}"` };
  }
  const planResult = validateContactPlan(plan);
  if (planResult.ok) return undefined;
  return {
    reason: ROUTE_REASONS.contactPlanInvalid,
    message: `${field}: ContactPlan "${planName}" is invalid: ${planResult.issues.map(formatIssue).join('; ')}`,
  };
}

/**
 * Why the intent is what it is when the reconciler runs without a policy (tests, tools): the
 * spec's weights. The operator always runs with one (see policy-step.ts).
 */
function specReason(route: AdaptiveRoute): string {
  const bounds = 'retries and timeouts at the upper bounds of the spec';
  if (route.spec.policy.mode === 'static') return `static policy: serving the spec's weights, ${bounds}`;
  return `no policy configured: serving the spec's weights, ${bounds}`;
}
