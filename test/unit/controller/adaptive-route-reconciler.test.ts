import { pino } from 'pino';
import { ManualClock } from '../../../operator/base/clock.ts';
import { findCondition } from '../../../operator/api/conditions.ts';
import { MeshpilotError, ERROR_CODES } from '../../../operator/base/errors.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { routesForContactPlan } from '../../../operator/adaptive-route/judge.ts';
import { AdaptiveRouteReconciler } from '../../../operator/adaptive-route/reconciler.ts';
import { ROUTE_FINALIZER } from '../../../operator/adaptive-route/resource.ts';
import type { ReconcileContext } from '../../../operator/controller/controller.ts';
import type { RouteIntent } from '../../../operator/routing/route-intent.ts';
import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import { exampleRoute, examplePlan, FakeCluster } from './fake-cluster.ts';

const KEY = 'shop/checkout';
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };

function setup() {
  const clock = new ManualClock(Date.parse('2025-03-01T12:00:00Z'));
  const cluster = new FakeCluster();
  const sink = new MemoryIntentSink();
  const reconciler = new AdaptiveRouteReconciler({
    routes: cluster.routes,
    contactPlans: cluster.plans,
    writer: cluster.writer,
    events: cluster.recorder,
    sink,
    clock,
  });
  const stored = () => cluster.routes.get(KEY)!;
  return { clock, cluster, sink, reconciler, stored };
}

const ready = (r: AdaptiveRoute) => findCondition(r.status?.conditions, 'Ready');
const valid = (r: AdaptiveRoute) => findCondition(r.status?.conditions, 'Valid');

describe('AdaptiveRouteReconciler', () => {
  it('converges a valid route: finalizer, status, weights, decision, intent and an Event', async () => {
    const { cluster, sink, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    const r = stored();
    expect(r.metadata.finalizers).toEqual([ROUTE_FINALIZER]);
    expect(r.status).toMatchObject({
      observedGeneration: 1,
      weights: [
        { region: 'eu-west', weight: 60 },
        { region: 'us-east', weight: 40 },
      ],
      weightSummary: 'eu-west=60,us-east=40',
      retryAttempts: 3,
      perTryTimeout: '2s',
      timeout: '15s',
      lastDecisionTime: '2025-03-01T12:00:00.000Z',
    });
    expect(r.status?.lastDecisionReason).toMatch(/spec's weights/);
    expect(valid(r)).toMatchObject({ status: 'True', reason: 'SpecValid', observedGeneration: 1 });
    expect(ready(r)).toMatchObject({ status: 'True', reason: 'IntentPublished', observedGeneration: 1 });
    expect(sink.get(KEY)?.destinations.map((d) => d.weight)).toEqual([60, 40]);
    expect(cluster.events).toEqual([
      expect.objectContaining({ type: 'Normal', reason: 'IntentChanged', message: expect.stringContaining('eu-west=60,us-east=40') }),
    ]);
  });

  it('writes nothing when reconciled again with nothing changed, but republishes the intent', async () => {
    const { cluster, sink, reconciler, stored, clock } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    const rv = stored().metadata.resourceVersion;
    await clock.advance(60_000);
    const fresh = new MemoryIntentSink();
    const restarted = new AdaptiveRouteReconciler({
      routes: cluster.routes,
      contactPlans: cluster.plans,
      writer: cluster.writer,
      events: cluster.recorder,
      sink: fresh,
      clock,
    });
    await reconciler.reconcile(KEY, ctx);
    await restarted.reconcile(KEY, ctx);
    expect(stored().metadata.resourceVersion).toBe(rv);
    expect(cluster.events).toHaveLength(1);
    // A restarted operator's fresh sink receives the full state.
    expect(fresh.get(KEY)).toEqual(sink.get(KEY));
  });

  it('moves lastDecisionTime when the intent changes and lastTransitionTime only on a flip', async () => {
    const { cluster, reconciler, stored, clock } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    const firstTransition = ready(stored())?.lastTransitionTime;
    await clock.advance(3_600_000);
    const next = exampleRoute();
    next.spec.destinations[0]!.weight = 20;
    next.spec.destinations[1]!.weight = 80;
    cluster.routes.apply(next);
    await reconciler.reconcile(KEY, ctx);
    const r = stored();
    expect(r.status?.weightSummary).toBe('eu-west=20,us-east=80');
    expect(r.status?.lastDecisionTime).toBe('2025-03-01T13:00:00.000Z');
    expect(ready(r)).toMatchObject({ status: 'True', observedGeneration: 2, lastTransitionTime: firstTransition });

    // An edit that does not change the outcome is not a new decision.
    await clock.advance(60_000);
    const same = structuredClone(next);
    same.spec.objectives.latencyP99 = '300ms';
    cluster.routes.apply(same);
    await reconciler.reconcile(KEY, ctx);
    expect(stored().status?.observedGeneration).toBe(3);
    expect(stored().status?.lastDecisionTime).toBe('2025-03-01T13:00:00.000Z');
  });

  it('rejects an invalid spec with the field path and keeps the last good intent', async () => {
    const { cluster, sink, reconciler, stored, clock } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    const goodIntent = sink.get(KEY);
    const goodWeights = stored().status?.weights;
    await clock.advance(1000);
    // Stored before a CRD change tightened the schema: the API server holds it, the reconciler must not trust it.
    const bad = exampleRoute();
    (bad.spec.destinations[1] as { weight: number }).weight = -5;
    cluster.routes.apply(bad);
    await reconciler.reconcile(KEY, ctx);
    const r = stored();
    expect(valid(r)).toMatchObject({ status: 'False', reason: 'InvalidSpec', observedGeneration: 2 });
    expect(valid(r)?.message).toContain('spec.destinations[1].weight');
    expect(ready(r)).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready(r)?.message).toContain('eu-west=60,us-east=40');
    expect(r.status?.observedGeneration).toBe(2);
    expect(r.status?.weights).toEqual(goodWeights);
    expect(sink.get(KEY)).toEqual(goodIntent);
    expect(cluster.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'InvalidSpec', message: expect.stringContaining('spec.destinations[1].weight') });
  });

  it('reports a missing ContactPlan, and recovers once it exists', async () => {
    const { cluster, sink, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    cluster.routes.apply(exampleRoute('checkout', 'shop', { delayTolerant: { contactPlanRef: { name: 'mars-relay' } } }));
    await reconciler.reconcile(KEY, ctx);
    let r = stored();
    expect(ready(r)).toMatchObject({ status: 'False', reason: 'ContactPlanNotFound' });
    expect(ready(r)?.message).toContain('spec.delayTolerant.contactPlanRef.name');
    expect(sink.get(KEY)?.delayTolerant).toBeUndefined();
    expect(cluster.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ContactPlanNotFound' });

    const plan = cluster.plans.apply(examplePlan());
    expect(routesForContactPlan(cluster.routes, plan)).toEqual([KEY]);
    await reconciler.reconcile(KEY, ctx);
    r = stored();
    expect(ready(r)).toMatchObject({ status: 'True', reason: 'IntentPublished', observedGeneration: 2 });
    expect(valid(r)).toMatchObject({ status: 'True' });
    expect(sink.get(KEY)?.delayTolerant?.contactPlan).toBe('mars-relay');
  });

  it('reports Ready=False and fails retriably when the outputs refuse the intent', async () => {
    const { cluster, reconciler, stored, clock } = setup();
    cluster.routes.apply(exampleRoute());
    const failing = new AdaptiveRouteReconciler({
      routes: cluster.routes,
      contactPlans: cluster.plans,
      writer: cluster.writer,
      events: cluster.recorder,
      clock,
      sink: {
        publish: async (_i: RouteIntent) => {
          throw new MeshpilotError(ERROR_CODES.API_UNAVAILABLE, 'xds server not ready', { retriable: true });
        },
        withdraw: async () => undefined,
      },
    });
    await expect(failing.reconcile(KEY, ctx)).rejects.toMatchObject({ retriable: true });
    expect(ready(stored())).toMatchObject({ status: 'False', reason: 'PublishFailed' });
    await reconciler.reconcile(KEY, ctx);
    expect(ready(stored())).toMatchObject({ status: 'True' });
  });

  it('withdraws the intent and removes its finalizer when the route is deleted', async () => {
    const { cluster, sink, reconciler } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    expect(sink.keys()).toEqual([KEY]);
    cluster.routes.get(KEY)!.metadata.deletionTimestamp = '2025-03-01T12:05:00Z';
    await reconciler.reconcile(KEY, ctx);
    expect(sink.keys()).toEqual([]);
    // The fake API server removes the object once its last finalizer is gone.
    expect(cluster.routes.get(KEY)).toBeUndefined();
    await reconciler.reconcile(KEY, ctx);
    expect(sink.keys()).toEqual([]);
  });

  it('says which fields no output carries yet: Supported=False naming each, one Warning, Ready unchanged', async () => {
    const { cluster, sink, reconciler, stored, clock } = setup();
    const supported = (r: AdaptiveRoute) => findCondition(r.status?.conditions, 'Supported');
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    expect(supported(stored())).toMatchObject({ status: 'True', reason: 'AllFieldsSupported' });

    await clock.advance(60_000);
    cluster.plans.apply(examplePlan());
    cluster.routes.apply(
      exampleRoute('checkout', 'shop', {
        tls: { mode: 'pq-only' },
        outputs: { xds: { enabled: true }, istio: { enabled: true }, gatewayApi: { enabled: true, parentRefs: [{ name: 'edge' }] } },
        delayTolerant: { contactPlanRef: { name: 'mars-relay' } },
      }),
    );
    await reconciler.reconcile(KEY, ctx);
    const r = stored();
    expect(supported(r)).toMatchObject({ status: 'False', reason: 'NotImplemented', observedGeneration: 2 });
    for (const field of ['spec.tls.mode: "pq-only" is not implemented yet', 'spec.outputs.gatewayApi: not implemented yet', 'spec.outputs.istio: not implemented yet', 'spec.delayTolerant: not implemented yet']) {
      expect(supported(r)?.message).toContain(field);
    }
    // The route is still served over xDS: what is not implemented does not stop what is.
    expect(ready(r)).toMatchObject({ status: 'True', reason: 'IntentPublished' });
    expect(sink.get(KEY)?.outputs.xds).toBe(true);
    const warnings = () => cluster.events.filter((e) => e.reason === 'NotImplemented');
    expect(warnings()).toEqual([expect.objectContaining({ type: 'Warning', message: supported(r)?.message })]);

    // Reconciled again with nothing changed: no second Warning.
    await clock.advance(60_000);
    await reconciler.reconcile(KEY, ctx);
    expect(warnings()).toHaveLength(1);

    // Back to what is implemented: True again.
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    expect(supported(stored())).toMatchObject({ status: 'True', reason: 'AllFieldsSupported' });
  });
});
