import { pino } from 'pino';
import { ManualClock } from '../../../operator/base/clock.ts';
import { findCondition } from '../../../operator/api/conditions.ts';
import {
  contactPlanIssues,
  ContactPlanReconciler,
} from '../../../operator/contact-plan/reconciler.ts';
import type { ReconcileContext } from '../../../operator/controller/controller.ts';
import { examplePlan, FakeCluster } from './fake-cluster.ts';

const KEY = 'shop/mars-relay';
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };
const contact = (from: string, to: string, start: number, end: number) => ({
  from,
  to,
  start,
  end,
  rateBitsPerSecond: 1000,
  oneWayLightTime: 1,
  confidence: 1,
});

function setup(now = '2025-01-01T01:00:00Z') {
  const clock = new ManualClock(Date.parse(now));
  const cluster = new FakeCluster();
  const reconciler = new ContactPlanReconciler({ plans: cluster.plans, writer: cluster.writer, events: cluster.recorder, clock });
  return { clock, cluster, reconciler, stored: () => cluster.plans.get(KEY)! };
}

describe('contactPlanIssues', () => {
  it('finds contacts of one link that overlap in time, naming the later one', () => {
    const plan = examplePlan('p', 'shop', [contact('earth', 'mars', 0, 100), contact('mars', 'earth', 50, 150), contact('earth', 'mars', 90, 200), contact('earth', 'mars', 200, 300)]);
    expect(contactPlanIssues(plan)).toEqual([{ field: 'spec.contacts[2]', message: expect.stringContaining('overlaps spec.contacts[0]') }]);
  });
});

describe('ContactPlanReconciler', () => {
  it('writes counts, horizon and Ready while contacts lie ahead, and looks again at the horizon', async () => {
    const { cluster, reconciler, stored, clock } = setup();
    cluster.plans.apply(examplePlan());
    const result = await reconciler.reconcile(KEY, ctx);
    expect(stored().status).toMatchObject({ observedGeneration: 1, nodeCount: 2, contactCount: 2, horizon: '2025-01-01T03:00:00.000Z' });
    expect(findCondition(stored().status?.conditions, 'Valid')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(findCondition(stored().status?.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'ContactsAhead' });
    expect(result.requeueAfterMs).toBe(2 * 3600_000);

    const rv = stored().metadata.resourceVersion;
    await reconciler.reconcile(KEY, ctx);
    expect(stored().metadata.resourceVersion).toBe(rv);

    await clock.advance(2 * 3600_000);
    expect(await reconciler.reconcile(KEY, ctx)).toEqual({});
    expect(findCondition(stored().status?.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'HorizonPassed' });
  });

  it('reports overlapping contacts as an invalid spec with the field path, keeping the last counts', async () => {
    const { cluster, reconciler, stored } = setup();
    cluster.plans.apply(examplePlan());
    await reconciler.reconcile(KEY, ctx);
    cluster.plans.apply(examplePlan('mars-relay', 'shop', [contact('earth', 'mars', 0, 100), contact('earth', 'mars', 50, 150)]));
    await reconciler.reconcile(KEY, ctx);
    const status = stored().status!;
    expect(findCondition(status.conditions, 'Valid')).toMatchObject({ status: 'False', reason: 'InvalidSpec', observedGeneration: 2 });
    expect(findCondition(status.conditions, 'Valid')?.message).toContain('spec.contacts[1]');
    expect(status.contactCount).toBe(2);
    expect(cluster.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'InvalidSpec' });
  });
});
