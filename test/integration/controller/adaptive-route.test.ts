// The controller runtime end to end against the real embedded API server: the Manager's
// informers, controllers and reconcilers converge AdaptiveRoute and ContactPlan status,
// publish intents, report a missing ContactPlan while keeping the last good intent, and
// clean up on delete.
import { CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { findCondition } from '../../../operator/api/conditions.ts';
import type { AdaptiveRoute, ContactPlan } from '../../../operator/api/types.ts';
import { ADAPTIVE_ROUTES, ROUTE_FINALIZER } from '../../../operator/adaptive-route/resource.ts';
import { CONTACT_PLANS } from '../../../operator/contact-plan/reconciler.ts';
import { Manager } from '../../../operator/manager.ts';
import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

const NS = 'default';
const KEY = `${NS}/checkout`;

const checkout = (): AdaptiveRoute =>
  ({
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name: 'checkout', namespace: NS },
    spec: {
      host: 'checkout.shop.svc.cluster.local',
      destinations: [
        { region: 'eu-west', service: 'checkout.eu-west.svc.cluster.local', port: 8080, weight: 3 },
        { region: 'us-east', service: 'checkout.us-east.svc.cluster.local', port: 8080, weight: 2 },
        { region: 'ap-south', service: 'checkout.ap-south.svc.cluster.local', port: 8080, weight: 1, priority: 1 },
      ],
      policy: { mode: 'static' },
    },
  }) as unknown as AdaptiveRoute;

const marsRelay = (): ContactPlan =>
  ({
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'ContactPlan',
    metadata: { name: 'mars-relay', namespace: NS },
    spec: {
      epoch: '2030-01-01T00:00:00Z',
      nodes: [{ name: 'earth', region: 'eu-west' }, { name: 'mars', region: 'us-east' }],
      contacts: [{ from: 'earth', to: 'mars', start: 0, end: 3600, rateBitsPerSecond: 1e6, oneWayLightTime: 600, confidence: 1 }],
    },
  }) as unknown as ContactPlan;

describe('AdaptiveRoute controller against the local API server', () => {
  let h: Harness;
  let stop: AbortController;
  let running: Promise<void>;
  const sink = new MemoryIntentSink();

  beforeAll(async () => {
    h = await startHarness();
    const manager = new Manager({
      api: h.api,
      sink,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      workers: 2,
      identity: 'test-replica',
      leaderElection: { leaseNamespace: NS, leaseName: 'meshpilot', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 200 },
    });
    stop = new AbortController();
    running = manager.run(stop.signal);
  });

  afterAll(async () => {
    stop?.abort();
    await running;
    await h?.close();
  });

  const get = async () => (await h.api.get<AdaptiveRoute>(ADAPTIVE_ROUTES, NS, 'checkout'))!;
  const ready = (r: AdaptiveRoute) => findCondition(r.status?.conditions, 'Ready');

  it('converges status on a new route and publishes its intent', async () => {
    await h.api.create(ADAPTIVE_ROUTES, checkout());
    const r = await eventually(async () => {
      const current = await get();
      return current.status?.observedGeneration === 1 && ready(current)?.status === 'True' ? current : undefined;
    }, 'Ready=True');
    expect(r.metadata.finalizers).toContain(ROUTE_FINALIZER);
    expect(r.status?.weights).toEqual([
      { region: 'eu-west', weight: 60 },
      { region: 'us-east', weight: 40 },
      { region: 'ap-south', weight: 0 },
    ]);
    expect(r.status?.weightSummary).toBe('eu-west=60,us-east=40,ap-south=0');
    expect(findCondition(r.status?.conditions, 'Valid')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(r.status?.lastDecisionTime).toBeDefined();
    expect(sink.get(KEY)?.destinations.map((d) => d.weight)).toEqual([60, 40, 0]);
  });

  it('refuses a missing ContactPlan with the field path and an Event, keeping the last good weights', async () => {
    const current = await get();
    current.spec.delayTolerant = { contactPlanRef: { name: 'mars-relay' }, bundleLifetime: '1h' };
    current.spec.destinations[0]!.weight = 1;
    await h.api.replace(ADAPTIVE_ROUTES, current);
    const r = await eventually(async () => {
      const now = await get();
      return now.status?.observedGeneration === 2 ? now : undefined;
    }, 'observedGeneration 2');
    expect(ready(r)).toMatchObject({ status: 'False', reason: 'ContactPlanNotFound', observedGeneration: 2 });
    expect(ready(r)?.message).toContain('spec.delayTolerant.contactPlanRef.name');
    expect(r.status?.weightSummary).toBe('eu-west=60,us-east=40,ap-south=0');
    expect(sink.get(KEY)?.destinations.map((d) => d.weight)).toEqual([60, 40, 0]);
    const core = h.api.kubeConfig.makeApiClient(CoreV1Api);
    const event = await eventually(async () => {
      const events = await core.listNamespacedEvent({ namespace: NS });
      return events.items.find((e) => e.reason === 'ContactPlanNotFound' && e.involvedObject.name === 'checkout');
    }, 'a Warning Event');
    expect(event).toMatchObject({ type: 'Warning', involvedObject: { kind: 'AdaptiveRoute', uid: r.metadata.uid } });
    expect(event.message).toContain('mars-relay');
  });

  it('turns Ready once the ContactPlan exists, and reports the plan status', async () => {
    await h.api.create(CONTACT_PLANS, marsRelay());
    const r = await eventually(async () => {
      const now = await get();
      return ready(now)?.status === 'True' ? now : undefined;
    }, 'Ready=True after the plan appeared');
    expect(r.status?.weightSummary).toBe('eu-west=33,us-east=67,ap-south=0');
    expect(sink.get(KEY)?.delayTolerant?.contactPlan).toBe('mars-relay');
    const plan = await eventually(async () => {
      const p = await h.api.get<ContactPlan>(CONTACT_PLANS, NS, 'mars-relay');
      return p?.status?.observedGeneration === 1 ? p : undefined;
    }, 'plan status');
    expect(plan.status).toMatchObject({ contactCount: 1, nodeCount: 2, horizon: '2030-01-01T01:00:00.000Z' });
    expect(findCondition(plan.status?.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'ContactsAhead' });
  });

  it('withdraws the intent and lets the route go on delete', async () => {
    await h.api.delete(ADAPTIVE_ROUTES, NS, 'checkout');
    await eventually(async () => ((await h.api.get(ADAPTIVE_ROUTES, NS, 'checkout')) === undefined ? true : undefined), 'the route to be gone');
    expect(sink.get(KEY)).toBeUndefined();
  });
});
