// The ContactPlan reconciler: validates a plan (the CRD schema, again, and what the schema
// cannot say: no two contacts of one link may overlap in time) and writes its status
// (observedGeneration, Valid/Ready, node and contact counts, horizon) when it changes. Ready
// means the plan still has contacts ahead; the pass asks to run again at the horizon so
// Ready turns False when the last contact ends. Routes that reference a plan are re-queued by
// the AdaptiveRoute controller's watch on plans (routesForContactPlan), not from here.
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { formatIssue } from '../api/schema/validate.ts';
import { API_VERSION, GROUP, RESOURCES, VERSION } from '../api/types.ts';
import type { ContactPlan, ContactPlanStatus } from '../api/types.ts';
import { validateContactPlan } from '../api/validate.ts';
import { isNotFound } from '../kube/api-error.ts';
import type { ResourceRef } from '../kube/client.ts';
import type { EventSink, ObjectCache } from '../controller/ports.ts';
import type { ReconcileContext, ReconcileResult, Reconciler } from '../controller/controller.ts';
import { statusEqual } from '../controller/status-diff.ts';
import { StatusDraft } from '../controller/status-draft.ts';
import { namespaceOf } from '../base/object-key.ts';
import { CONDITION_TYPES, PLAN_REASONS } from '../api/condition-types.ts';

export const CONTACT_PLANS: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: RESOURCES.contactPlan.plural,
  kind: RESOURCES.contactPlan.kind,
};

/** Longest wait before a plan with contacts ahead is looked at again. */
const MAX_REQUEUE_MS = 6 * 3600_000;

export interface PlanWriter {
  patchStatus<T extends ContactPlan>(resource: ResourceRef, namespace: string, name: string, status: object): Promise<T>;
}

export interface ContactPlanReconcilerOptions {
  plans: ObjectCache<ContactPlan>;
  writer: PlanWriter;
  events: EventSink;
  clock?: Clock;
}

/** A problem the schema cannot express, with the field path of the offending contact. */
export interface PlanIssue {
  field: string;
  message: string;
}

/**
 * Checks what the CRD schema cannot: two contacts on the same link (from → to) must not
 * overlap in time, since a link is either open or closed. Pure; returns [] when fine.
 */
export function contactPlanIssues(plan: ContactPlan): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const byLink = new Map<string, { index: number; start: number; end: number }[]>();
  plan.spec.contacts.forEach((c, index) => {
    const link = `${c.from}\u0000${c.to}`;
    const list = byLink.get(link) ?? [];
    list.push({ index, start: c.start, end: c.end });
    byLink.set(link, list);
  });
  for (const list of byLink.values()) {
    list.sort((a, b) => a.start - b.start || a.index - b.index);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (cur.start < prev.end) {
        const c = plan.spec.contacts[cur.index]!;
        issues.push({
          field: `spec.contacts[${cur.index}]`,
          message: `contact ${c.from} -> ${c.to} [${cur.start}, ${cur.end}) overlaps spec.contacts[${prev.index}] [${prev.start}, ${prev.end})`,
        });
      }
    }
  }
  return issues.sort((a, b) => a.field.localeCompare(b.field, 'en', { numeric: true }));
}

/** The instant the last contact ends (epoch + latest end), or undefined for a plan without contacts. */
export function planHorizon(plan: ContactPlan): Date | undefined {
  if (plan.spec.contacts.length === 0) return undefined;
  const epoch = Date.parse(plan.spec.epoch);
  if (Number.isNaN(epoch)) return undefined;
  const lastEnd = Math.max(...plan.spec.contacts.map((c) => c.end));
  return new Date(epoch + lastEnd * 1000);
}

export class ContactPlanReconciler implements Reconciler {
  readonly #plans: ObjectCache<ContactPlan>;
  readonly #writer: PlanWriter;
  readonly #events: EventSink;
  readonly #clock: Clock;

  constructor(options: ContactPlanReconcilerOptions) {
    this.#plans = options.plans;
    this.#writer = options.writer;
    this.#events = options.events;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * One idempotent pass for the plan `namespace/name`. Requeues itself for the horizon while
   * contacts lie ahead. Throws (retriable) only when the status write fails.
   */
  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const plan = this.#plans.get(key);
    if (!plan || plan.metadata.deletionTimestamp) return {};
    const draft = new StatusDraft<ContactPlanStatus>(plan.status, plan.metadata.generation ?? 0, new Date(this.#clock.now()));
    const { status, now } = draft;
    const condition = draft.set.bind(draft);

    const result = validateContactPlan(plan);
    const problems = result.ok
      ? contactPlanIssues(result.value).map((i) => `${i.field}: ${i.message}`)
      : result.issues.map(formatIssue);
    let requeueAfterMs: number | undefined;
    let warning: string | undefined;
    if (problems.length > 0 || !result.ok) {
      warning = problems.join('; ');
      condition(CONDITION_TYPES.valid, false, PLAN_REASONS.invalidSpec, warning);
      condition(CONDITION_TYPES.ready, false, PLAN_REASONS.invalidSpec, `${warning}; routes referencing this plan keep their last good intent`);
    } else {
      const valid = result.value;
      const horizon = planHorizon(valid);
      status.nodeCount = valid.spec.nodes.length;
      status.contactCount = valid.spec.contacts.length;
      if (horizon) status.horizon = horizon.toISOString();
      else delete status.horizon;
      condition(CONDITION_TYPES.valid, true, PLAN_REASONS.specValid, 'the plan is valid');
      if (horizon && horizon.getTime() > now.getTime()) {
        condition(CONDITION_TYPES.ready, true, PLAN_REASONS.contactsAhead, `contacts are planned until ${horizon.toISOString()}`);
        // Look again at the horizon, and at least every few hours so a clock jump cannot strand it.
        requeueAfterMs = Math.min(horizon.getTime() - now.getTime(), MAX_REQUEUE_MS);
      } else {
        condition(
          CONDITION_TYPES.ready,
          false,
          PLAN_REASONS.horizonPassed,
          horizon ? `every contact ended by ${horizon.toISOString()}` : 'the plan has no contacts',
        );
      }
    }

    if (!statusEqual(draft.before, status)) {
      try {
        await this.#writer.patchStatus(CONTACT_PLANS, namespaceOf(plan.metadata), plan.metadata.name, status);
      } catch (e) {
        if (isNotFound(e)) return {};
        throw e;
      }
      ctx.logger.debug({ observedGeneration: draft.generation }, 'status written');
      if (warning !== undefined) {
        await this.#events.record(
          { apiVersion: API_VERSION, kind: RESOURCES.contactPlan.kind, metadata: plan.metadata },
          'Warning',
          PLAN_REASONS.invalidSpec,
          warning,
        );
      }
    }
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }
}
