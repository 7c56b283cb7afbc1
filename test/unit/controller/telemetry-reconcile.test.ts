import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { findCondition } from '../../../operator/api/conditions.ts';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { AdaptiveRouteReconciler } from '../../../operator/adaptive-route/reconciler.ts';
import type { ReconcileContext } from '../../../operator/controller/controller.ts';
import { telemetryTarget } from '../../../operator/adaptive-route/telemetry-target.ts';
import { DecisionRecorder } from '../../../operator/adaptive-route/decision-recorder.ts';
import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import type { DecisionLog, DecisionRecord, OutcomeRecord } from '../../../operator/telemetry/decision-log.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { Telemetry } from '../../../operator/telemetry/telemetry.ts';
import type { RouteTarget, SourceKind, TelemetrySource } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { exampleRoute, FakeCluster } from './fake-cluster.ts';

const KEY = 'shop/checkout';
const ctx: ReconcileContext = { logger: pino({ level: 'silent' }), reconcileId: 'test', signal: new AbortController().signal };

class RecordingSource implements TelemetrySource {
  readonly kind: SourceKind;
  readonly watched = new Map<string, RouteTarget>();
  trouble: string | undefined;
  constructor(kind: SourceKind) {
    this.kind = kind;
  }
  watch(target: RouteTarget): void {
    this.watched.set(target.key, target);
  }
  unwatch(key: string): void {
    this.watched.delete(key);
  }
  problem(): string | undefined {
    return this.trouble;
  }
  async close(): Promise<void> {}
}

class MemoryDecisionLog implements DecisionLog {
  readonly decisions: DecisionRecord[] = [];
  readonly outcomes: OutcomeRecord[] = [];
  record(d: DecisionRecord): void {
    this.decisions.push(d);
  }
  recordOutcome(o: OutcomeRecord): void {
    this.outcomes.push(o);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function setup(defaultSources: SourceKind[] = []) {
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const cluster = new FakeCluster();
  const store = new WindowStore({ clock, metrics: telemetryMetrics(new Registry()) });
  const prometheus = new RecordingSource('prometheus');
  const kafka = new RecordingSource('kafka');
  const telemetry = new Telemetry({ store, sources: { prometheus, kafka }, defaultSources, clock, logger: pino({ level: 'silent' }) });
  const log = new MemoryDecisionLog();
  let n = 0;
  const reconciler = new AdaptiveRouteReconciler({
    routes: cluster.routes,
    contactPlans: cluster.plans,
    writer: cluster.writer,
    events: cluster.recorder,
    sink: new MemoryIntentSink(),
    telemetry,
    decisions: new DecisionRecorder({ log, clock, newId: () => `d${++n}` }),
    clock,
  });
  const condition = () => findCondition(cluster.routes.get(KEY)!.status?.conditions, 'TelemetryFresh');
  const sample = (region: string, values = { requestRate: 10, latencyP99: 80 }) =>
    store.recordSample({ route: KEY, region, atMs: clock.now(), source: 'prometheus', values });
  return { clock, cluster, telemetry, prometheus, kafka, log, reconciler, condition, sample };
}

function withPrometheus(route: AdaptiveRoute): AdaptiveRoute {
  route.spec.telemetry.prometheus = { url: 'http://prometheus:9090' };
  return route;
}

describe('AdaptiveRoute telemetry', () => {
  it('follows the sources the spec names and reports AwaitingTelemetry, then TelemetryFresh', async () => {
    const { cluster, prometheus, kafka, reconciler, condition, sample, telemetry } = setup();
    cluster.routes.apply(withPrometheus(exampleRoute()));
    const result = await reconciler.reconcile(KEY, ctx);
    expect(result).toEqual({ requeueAfterMs: 30_000 }); // the default decisionInterval
    expect(prometheus.watched.get(KEY)?.regions.map((r) => r.cluster)).toEqual(['meshpilot|shop|checkout|eu-west', 'meshpilot|shop|checkout|us-east']);
    expect(kafka.watched.size).toBe(0);
    expect(condition()).toMatchObject({ status: 'Unknown', reason: 'AwaitingTelemetry', message: 'prometheus: no data yet for eu-west, us-east' });

    const flips: string[] = [];
    telemetry.onChange((key) => flips.push(key));
    telemetry.check();
    sample('eu-west');
    sample('us-east');
    telemetry.check();
    expect(flips).toEqual([KEY, KEY]);
    await reconciler.reconcile(KEY, ctx);
    expect(condition()).toMatchObject({ status: 'True', reason: 'TelemetryFresh', message: 'prometheus: every region reported within staleAfter 1m' });
  });

  it('goes TelemetryStale naming the source, the regions and the age, with a Warning event, and back', async () => {
    const { cluster, clock, reconciler, condition, sample, prometheus } = setup();
    cluster.routes.apply(withPrometheus(exampleRoute()));
    await reconciler.reconcile(KEY, ctx);
    sample('eu-west');
    sample('us-east');
    await reconciler.reconcile(KEY, ctx);
    await clock.advance(30_000);
    sample('eu-west');
    await clock.advance(45_000);
    prometheus.trouble = 'prometheus http://prometheus:9090: errorRate query timed out after 5s';
    await reconciler.reconcile(KEY, ctx);
    const stale = condition()!;
    expect(stale).toMatchObject({ status: 'False', reason: 'TelemetryStale' });
    expect(stale.message).toBe(
      'prometheus: no fresh data for us-east (newest data 1m15s old, staleAfter 1m); decisions hold the last good intent; ' +
        'prometheus http://prometheus:9090: errorRate query timed out after 5s',
    );
    expect(cluster.events.filter((e) => e.reason === 'TelemetryStale')).toHaveLength(1);

    // Only the age moved: status is not rewritten.
    const rv = cluster.routes.get(KEY)!.metadata.resourceVersion;
    await clock.advance(10_000);
    await reconciler.reconcile(KEY, ctx);
    expect(cluster.routes.get(KEY)!.metadata.resourceVersion).toBe(rv);

    prometheus.trouble = undefined;
    sample('eu-west');
    sample('us-east');
    await reconciler.reconcile(KEY, ctx);
    expect(condition()).toMatchObject({ status: 'True', reason: 'TelemetryFresh' });
    // Once when the first data came, once on recovery.
    expect(cluster.events.filter((e) => e.reason === 'TelemetryFresh')).toHaveLength(2);
  });

  it('says so when a route has no source, and uses the operator default when there is one', async () => {
    const bare = setup();
    bare.cluster.routes.apply(exampleRoute());
    await bare.reconciler.reconcile(KEY, ctx);
    expect(bare.condition()).toMatchObject({ status: 'Unknown', reason: 'NoTelemetrySource' });
    expect(bare.condition()!.message).toMatch(/--prometheus-url/);

    const defaulted = setup(['prometheus']);
    defaulted.cluster.routes.apply(exampleRoute());
    await defaulted.reconciler.reconcile(KEY, ctx);
    expect(defaulted.prometheus.watched.has(KEY)).toBe(true);
    expect(defaulted.condition()).toMatchObject({ reason: 'AwaitingTelemetry' });
  });

  it('switches sources when the spec changes and stops following a deleted route', async () => {
    const { cluster, prometheus, kafka, reconciler } = setup();
    cluster.routes.apply(withPrometheus(exampleRoute()));
    await reconciler.reconcile(KEY, ctx);
    const route = exampleRoute();
    route.spec.telemetry.kafka = { topic: 'mesh.requests' };
    cluster.routes.apply(route);
    await reconciler.reconcile(KEY, ctx);
    expect(prometheus.watched.has(KEY)).toBe(false);
    expect(kafka.watched.get(KEY)?.telemetry.kafka?.topic).toBe('mesh.requests');
    cluster.routes.remove(KEY);
    await reconciler.reconcile(KEY, ctx);
    expect(kafka.watched.size).toBe(0);
  });

  it('keeps following the last good spec while the spec is invalid', async () => {
    const { cluster, prometheus, reconciler } = setup();
    cluster.routes.apply(withPrometheus(exampleRoute()));
    await reconciler.reconcile(KEY, ctx);
    const bad = cluster.routes.get(KEY)!;
    (bad.spec.destinations[0] as { weight: number }).weight = -5;
    cluster.routes.objects.set(KEY, bad);
    await reconciler.reconcile(KEY, ctx);
    expect(findCondition(cluster.routes.get(KEY)!.status?.conditions, 'Valid')?.status).toBe('False');
    expect(prometheus.watched.get(KEY)?.regions).toHaveLength(2);
  });

  it('logs one decision per decision interval and the outcome of the previous one', async () => {
    const { cluster, clock, reconciler, log, sample, telemetry } = setup();
    cluster.routes.apply(withPrometheus(exampleRoute()));
    telemetry.follow(telemetryTarget(cluster.routes.get(KEY)!));
    sample('eu-west');
    await reconciler.reconcile(KEY, ctx);
    await reconciler.reconcile(KEY, ctx); // a status echo: not a new decision
    expect(log.decisions).toHaveLength(1);
    const first = log.decisions[0]!;
    expect(first).toMatchObject({
      schema: 'meshpilot.decision/v1',
      id: 'd1',
      route: KEY,
      mode: 'enforce',
      policy: 'spec',
      actionProbability: 1,
      applied: true,
      action: { weights: [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }] },
    });
    expect(first.observation.regions.find((r) => r.region === 'eu-west')?.signals.requestRate.value).toBe(10);
    await clock.advance(30_000);
    sample('eu-west', { requestRate: 20, latencyP99: 90 });
    await reconciler.reconcile(KEY, ctx);
    expect(log.decisions.map((d) => d.id)).toEqual(['d1', 'd2']);
    expect(log.outcomes).toHaveLength(1);
    expect(log.outcomes[0]).toMatchObject({ schema: 'meshpilot.decision-outcome/v1', decisionId: 'd1', route: KEY });
    expect(log.outcomes[0]!.observation.regions[0]!.signals.requestRate.value).toBe(20);
  });
});
