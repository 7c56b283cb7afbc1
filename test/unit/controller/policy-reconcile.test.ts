import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ManualClock } from '../../../operator/base/clock.ts';
import { findCondition } from '../../../operator/api/conditions.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { AdaptiveRouteReconciler, type RouteTelemetry } from '../../../operator/adaptive-route/reconciler.ts';
import type { ReconcileContext } from '../../../operator/controller/controller.ts';
import { decisionBatcher, type Decide } from '../../../operator/adaptive-route/decision-batcher.ts';
import { DecisionRecorder } from '../../../operator/adaptive-route/decision-recorder.ts';
import type { DecisionLog, DecisionRecord } from '../../../operator/telemetry/decision-log.ts';
import { ModelRegistry } from '../../../operator/policy/model/registry.ts';
import { PolicyService } from '../../../operator/policy/policy.ts';
import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import type { RouteSnapshot } from '../../../operator/telemetry/types.ts';
import { makeSnapshot, type RegionData } from '../policy/fixtures.ts';
import { exampleRoute, FakeCluster } from './fake-cluster.ts';

const KEY = 'shop/checkout';
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };

/** A reconciler with the heuristic policy; `decisions` and `decide` wrap in what a test watches. */
function setup(options: { log?: DecisionLog; decide?: (decide: Decide) => Decide } = {}) {
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const cluster = new FakeCluster();
  const sink = new MemoryIntentSink();
  let regions: RegionData[] = [{ region: 'eu-west' }, { region: 'us-east' }];
  const telemetry: RouteTelemetry = {
    follow: () => undefined,
    unfollow: () => undefined,
    status: () => undefined,
    snapshot: (key): RouteSnapshot => makeSnapshot(key, regions, clock.now()),
  };
  const policy = new PolicyService({ models: new ModelRegistry({ root: mkdtempSync(join(tmpdir(), 'models-')) }), clock });
  const batch = decisionBatcher(policy);
  const make = () =>
    new AdaptiveRouteReconciler({
      routes: cluster.routes,
      contactPlans: cluster.plans,
      writer: cluster.writer,
      events: cluster.recorder,
      sink,
      telemetry,
      decide: options.decide ? options.decide(batch) : batch,
      ...(options.log ? { decisions: new DecisionRecorder({ log: options.log, clock }) } : {}),
      clock,
    });
  const stored = () => cluster.routes.get(KEY)!;
  return { clock, cluster, sink, make, stored, setRegions: (r: RegionData[]) => (regions = r) };
}

const withPolicy = (policy: Record<string, unknown>): AdaptiveRoute => exampleRoute('checkout', 'shop', { policy });

describe('AdaptiveRoute reconcile with the policy', () => {
  it('decides with the heuristic, applies it through the guard and records the decision and guard state in status', async () => {
    const { cluster, make, stored, sink, setRegions } = setup();
    // eu-west is slow and failing: the heuristic moves traffic to us-east, one bounded step.
    setRegions([{ region: 'eu-west', p99: 2_000, p50: 900, errorRate: 0.2 }, { region: 'us-east', p99: 100 }]);
    cluster.routes.apply(withPolicy({ mode: 'enforce', maxWeightStep: 10 }));
    const result = await make().reconcile(KEY, ctx);
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    const status = stored().status!;
    expect(status.policy).toMatchObject({ decidedBy: 'heuristic', applied: true });
    expect(status.policy!.guard).toMatchObject({ step: 1 });
    expect(status.weights).toEqual([{ region: 'eu-west', weight: 50 }, { region: 'us-east', weight: 50 }]);
    expect(sink.get(KEY)!.destinations.map((d) => d.weight)).toEqual([50, 50]);
    expect(sink.get(KEY)!.source.decidedBy).toBe('heuristic');
    expect(status.lastDecisionReason).toBeTruthy();
    expect(findCondition(status.conditions, 'Ready')!.message).toContain(status.lastDecisionReason!.slice(0, 40));
  });

  it('decides once per decision interval and serves the decision from status in between, also after a restart', async () => {
    const { cluster, make, stored, clock, setRegions } = setup();
    setRegions([{ region: 'eu-west', p99: 2_000, errorRate: 0.2 }, { region: 'us-east', p99: 100 }]);
    cluster.routes.apply(withPolicy({ mode: 'enforce', maxWeightStep: 10 }));
    await make().reconcile(KEY, ctx);
    const first = stored().status!;
    await clock.advance(10_000);
    const restarted = make();
    expect(await restarted.reconcile(KEY, ctx)).toEqual({ requeueAfterMs: 20_000 });
    expect(stored().status!.weights).toEqual(first.weights);
    expect(stored().status!.policy!.guard).toEqual(first.policy!.guard);
    await clock.advance(20_000);
    await restarted.reconcile(KEY, ctx);
    expect(stored().status!.policy!.guard).toMatchObject({ step: 2 });
    expect(stored().status!.weights).toEqual([{ region: 'eu-west', weight: 40 }, { region: 'us-east', weight: 60 }]);
  });

  it('in shadow mode decides and records, but serves the spec', async () => {
    const { cluster, make, stored, sink, setRegions } = setup();
    setRegions([{ region: 'eu-west', p99: 2_000, errorRate: 0.2 }, { region: 'us-east', p99: 100 }]);
    cluster.routes.apply(withPolicy({ mode: 'shadow', maxWeightStep: 10 }));
    await make().reconcile(KEY, ctx);
    const status = stored().status!;
    expect(status.policy).toMatchObject({ applied: false, decidedBy: 'heuristic' });
    expect(status.policy!.rules).toContain('ShadowMode');
    expect(status.lastDecisionReason).toMatch(/^shadow mode, nothing applied/);
    expect(status.weights).toEqual([{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }]);
    expect(sink.get(KEY)!.destinations.map((d) => d.weight)).toEqual([60, 40]);
  });

  it('holds the served weights when telemetry is stale (fail-static)', async () => {
    const { cluster, make, stored, setRegions } = setup();
    setRegions([{ region: 'eu-west', p99: 2_000, errorRate: 0.2, fresh: false }, { region: 'us-east', p99: 100 }]);
    cluster.routes.apply(withPolicy({ mode: 'enforce', maxWeightStep: 10 }));
    await make().reconcile(KEY, ctx);
    const status = stored().status!;
    expect(status.policy).toMatchObject({ applied: false });
    expect(status.weights).toEqual([{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }]);
  });

  it('refuses a model that is not there with PolicyModel=False and a Warning event, and the heuristic decides', async () => {
    const { cluster, make, stored } = setup();
    cluster.routes.apply(withPolicy({ mode: 'enforce', modelRef: { name: 'missing-model' } }));
    await make().reconcile(KEY, ctx);
    const status = stored().status!;
    const model = findCondition(status.conditions, 'PolicyModel')!;
    expect(model).toMatchObject({ status: 'False', reason: 'ModelRefused' });
    expect(model.message).toContain('missing-model');
    expect(status.policy).toMatchObject({ decidedBy: 'heuristic' });
    expect(status.policy!.fallbackReason).toContain('missing-model');
    expect(cluster.events.filter((e) => e.reason === 'ModelRefused')).toHaveLength(1);
  });

  it('serves the spec in static mode', async () => {
    const { cluster, make, stored, setRegions } = setup();
    setRegions([{ region: 'eu-west', p99: 2_000, errorRate: 0.2 }, { region: 'us-east', p99: 100 }]);
    cluster.routes.apply(withPolicy({ mode: 'static' }));
    await make().reconcile(KEY, ctx);
    expect(stored().status!.weights).toEqual([{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }]);
    expect(stored().status!.policy).toMatchObject({ decidedBy: 'spec' });
    expect(findCondition(stored().status!.conditions, 'PolicyModel')).toBeUndefined();
  });

  it('logs the snapshot the decision was made from, not a later one (the window moves while the policy decides)', async () => {
    const seen: RouteSnapshot[] = [];
    const records: DecisionRecord[] = [];
    const log: DecisionLog = { record: (r) => void records.push(r), recordOutcome: () => undefined, flush: async () => undefined, close: async () => undefined };
    const { cluster, make, setRegions } = setup({
      log,
      decide: (batch) => (input) => {
        if (input.snapshot) seen.push(input.snapshot);
        // The window moves while the policy decides, as one fed by a stream does.
        setRegions([{ region: 'eu-west', requestRate: 500 }, { region: 'us-east' }]);
        return batch(input);
      },
    });
    cluster.routes.apply(withPolicy({ mode: 'enforce' }));
    await make().reconcile(KEY, ctx);
    expect(records).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(records[0]!.observation).toBe(seen[0]);
  });
});
