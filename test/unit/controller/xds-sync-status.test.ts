import { pino } from 'pino';
import { ManualClock } from '../../../operator/base/clock.ts';
import { findCondition } from '../../../operator/api/conditions.ts';
import { AdaptiveRouteReconciler } from '../../../operator/adaptive-route/reconciler.ts';
import type { ReconcileContext } from '../../../operator/controller/controller.ts';
import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import type { OutputSyncStatus, SyncReporter } from '../../../operator/routing/sync-status.ts';
import { exampleRoute, FakeCluster } from './fake-cluster.ts';

const KEY = 'shop/checkout';
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };

class FakeSync implements SyncReporter {
  state: OutputSyncStatus = { version: 'v1', nodes: 0, acked: 0, nacked: 0, pending: 0, nackMessages: [], notes: [] };
  syncStatus(): OutputSyncStatus {
    return this.state;
  }
  onSyncChange(): () => void {
    return () => undefined;
  }
}

function setup() {
  const cluster = new FakeCluster();
  const sync = new FakeSync();
  const reconciler = new AdaptiveRouteReconciler({
    routes: cluster.routes,
    contactPlans: cluster.plans,
    writer: cluster.writer,
    events: cluster.recorder,
    sink: new MemoryIntentSink(),
    sync,
    clock: new ManualClock(Date.parse('2025-03-01T12:00:00Z')),
  });
  return { cluster, sync, reconciler, stored: () => cluster.routes.get(KEY)! };
}

describe('AdaptiveRoute xDS sync status', () => {
  it('reports Unknown with no subscriber, False while nodes have not ACKed, True once all have', async () => {
    const { cluster, sync, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    await reconciler.reconcile(KEY, ctx);
    expect(findCondition(stored().status?.conditions, 'XdsSynced')).toMatchObject({ status: 'Unknown', reason: 'NoSubscribers' });

    sync.state = { version: 'v1', nodes: 3, acked: 1, nacked: 0, pending: 2, nackMessages: [], notes: [] };
    await reconciler.reconcile(KEY, ctx);
    expect(stored().status?.xds).toEqual({ version: 'v1', nodes: 3, acked: 1, nacked: 0, pending: 2 });
    expect(findCondition(stored().status?.conditions, 'XdsSynced')).toMatchObject({ status: 'False', reason: 'AwaitingAck' });

    sync.state = { version: 'v1', nodes: 3, acked: 3, nacked: 0, pending: 0, nackMessages: [], notes: [] };
    await reconciler.reconcile(KEY, ctx);
    expect(findCondition(stored().status?.conditions, 'XdsSynced')).toMatchObject({
      status: 'True',
      reason: 'AllNodesAcked',
      message: 'all 3 subscribed nodes ACKed version v1',
    });
    // Ready is about the intent being valid and published; the data plane has its own condition.
    expect(findCondition(stored().status?.conditions, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('carries what some nodes cannot do into status.xds.notes and the condition message', async () => {
    const { cluster, sync, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    const note = '2 proxyless gRPC nodes: retries.crossRegion is not supported: retries stay in the region that was picked';
    sync.state = { version: 'v3', nodes: 2, acked: 2, nacked: 0, pending: 0, nackMessages: [], notes: [note] };
    await reconciler.reconcile(KEY, ctx);
    expect(stored().status?.xds).toEqual({ version: 'v3', nodes: 2, acked: 2, nacked: 0, pending: 0, notes: [note] });
    expect(findCondition(stored().status?.conditions, 'XdsSynced')?.message).toBe(`all 2 subscribed nodes ACKed version v3; ${note}`);
  });

  it('says which nodes rejected the config, with their message, in the condition and one Warning event', async () => {
    const { cluster, sync, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    sync.state = { version: 'v2', nodes: 2, acked: 1, nacked: 1, pending: 0, nackMessages: ['route weights sum to 0'], notes: [] };
    await reconciler.reconcile(KEY, ctx);
    await reconciler.reconcile(KEY, ctx);
    const c = findCondition(stored().status?.conditions, 'XdsSynced');
    expect(c).toMatchObject({ status: 'False', reason: 'NodesRejected' });
    expect(c?.message).toContain('1 of 2 nodes rejected version v2 and keep their last accepted config: route weights sum to 0');
    expect(cluster.events.filter((e) => e.reason === 'NodesRejected')).toHaveLength(1);
  });

  it('drops the xDS status when the route does not use the xDS output', async () => {
    const { cluster, sync, reconciler, stored } = setup();
    cluster.routes.apply(exampleRoute());
    sync.state = { version: 'v1', nodes: 1, acked: 1, nacked: 0, pending: 0, nackMessages: [], notes: [] };
    await reconciler.reconcile(KEY, ctx);
    expect(stored().status?.xds).toBeDefined();
    const route = stored();
    route.spec.outputs = { xds: { enabled: false }, istio: { enabled: true } };
    route.metadata.generation = (route.metadata.generation ?? 1) + 1;
    cluster.routes.apply(route);
    await reconciler.reconcile(KEY, ctx);
    expect(stored().status?.xds).toBeUndefined();
    expect(findCondition(stored().status?.conditions, 'XdsSynced')).toBeUndefined();
  });
});
