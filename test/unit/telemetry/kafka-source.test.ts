// KafkaSource's own logic against an in-memory transport (kafka-fake-transport.ts): grouping
// routes by brokers, topic-set restarts, the rewind to the window start on assignment, never
// counting an applied offset twice, commits only after the sink took a batch, dead letters
// that cannot be produced, failed commits, status and lag. The real client and broker are in
// test/integration/telemetry/kafka-source*.test.ts.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { TELEMETRY_SCHEMA } from '../../../operator/telemetry/kafka/events.ts';
import { KafkaSource, type KafkaSourceOptions } from '../../../operator/telemetry/kafka/kafka-source.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { RouteTarget, TelemetrySink } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { FakeCluster, type StoredMessage } from './kafka-fake-transport.ts';

const T0 = Date.UTC(2026, 0, 2, 12, 0, 0);
const WINDOW_MS = 60_000;
const BROKERS = ['kafka-0:9092', 'kafka-1:9092'];

function route(key: string, topic: string, brokers?: string[]): RouteTarget {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    key,
    namespace,
    name,
    host: name,
    regions: [{ region: 'eu-west', service: name, port: 80, cluster: `${key}/eu-west` }],
    telemetry: { kafka: brokers ? { topic, brokers } : { topic }, staleAfter: '30s' },
    decisionIntervalMs: 5_000,
    staleAfterMs: 30_000,
  };
}

function request(routeKey: string, atMs: number, latencyMs = 10): StoredMessage {
  return { value: JSON.stringify({ schema: TELEMETRY_SCHEMA, type: 'request', route: routeKey, region: 'eu-west', time: atMs, latencyMs, error: false }), timestampMs: atMs };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

function setup(options: Partial<KafkaSourceOptions> = {}, wrap: (store: WindowStore) => TelemetrySink = (s) => s) {
  const clock = new ManualClock(T0);
  const registry = new Registry();
  const metrics = telemetryMetrics(registry);
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const store = new WindowStore({ clock, metrics, logger, windowMs: WINDOW_MS });
  const cluster = new FakeCluster();
  const source = new KafkaSource({
    sink: wrap(store),
    clock,
    logger,
    metrics,
    transport: cluster.transport,
    defaultBrokers: BROKERS,
    windowMs: WINDOW_MS,
    commitIntervalMs: 0,
    ...options,
  });
  const consumed = async () => (await registry.getSingleMetric('meshpilot_telemetry_events_consumed_total')!.get()).values.reduce((s, v) => s + v.value, 0);
  const metric = async (name: string, labels: Record<string, string>) =>
    (await registry.getSingleMetric(name)!.get()).values
      .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
      .reduce((s, v) => s + v.value, 0);
  const follow = async (...targets: RouteTarget[]) => {
    for (const t of targets) {
      store.track(t);
      source.watch(t);
    }
    await clock.advance(500);
    await settle();
  };
  return { clock, registry, store, cluster, source, consumed, metric, lines, follow };
}

describe('KafkaSource', () => {
  it('runs one consumer per broker list on the union of its routes\' topics, restarting it (debounced) when that set changes', async () => {
    const { cluster, source, follow, clock } = setup();
    await follow(route('shop/a', 't1'), route('shop/b', 't2'), route('shop/c', 't1', ['other:9092']));
    expect(cluster.transports.map((t) => t.brokers)).toEqual([BROKERS, ['other:9092']]);
    const [first, other] = cluster.consumers();
    expect(first!.options).toMatchObject({ groupId: 'meshpilot-telemetry', topics: ['t1', 't2'], fromBeginning: true });
    expect(other!.options.topics).toEqual(['t1']);

    // Another route on a topic already read: no restart.
    source.watch(route('shop/d', 't2'));
    await clock.advance(500);
    await settle();
    expect(cluster.consumers()).toHaveLength(2);
    // A topic added and removed again within the quiet time: no restart either.
    source.watch(route('shop/e', 't3'));
    await clock.advance(100);
    source.unwatch('shop/e');
    await clock.advance(500);
    await settle();
    expect(cluster.consumers()).toHaveLength(2);

    // Quick changes coalesce into one restart after the quiet time.
    source.unwatch('shop/b');
    await clock.advance(200);
    source.unwatch('shop/d');
    await clock.advance(200);
    await settle();
    expect(cluster.consumers()).toHaveLength(2);
    await clock.advance(300);
    await settle();
    expect(cluster.consumers()).toHaveLength(3);
    expect(first!.stopped).toBe(true);
    expect(cluster.consumers()[2]!.options.topics).toEqual(['t1']);

    // The last route of a broker list gone: its consumer and transport close.
    source.unwatch('shop/c');
    await settle();
    expect(other!.stopped).toBe(true);
    expect(cluster.transports[1]!.closed).toBe(true);
    await source.close();
    expect(cluster.consumers()[2]!.stopped).toBe(true);
  });

  it('rewinds a new assignment to the start of the window where the cluster can look offsets up by timestamp', async () => {
    const { cluster, follow, consumed, clock } = setup();
    // Offsets 0-1 are older than the window, 2-4 inside it; the group had committed up to 5.
    cluster.append('t', 0, request('shop/a', T0 - 120_000), request('shop/a', T0 - 61_000), request('shop/a', T0 - 50_000), request('shop/a', T0 - 20_000), request('shop/a', T0 - 1_000));
    cluster.committed.set('meshpilot-telemetry', new Map([['t/0', '5']]));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(consumer.position('t', 0)).toBe(2);
    await consumer.deliver('t', 0);
    expect(await consumed()).toBe(3);
    expect(clock.now()).toBe(T0 + 500);
  });

  it('resumes from committed offsets when the cluster cannot look offsets up by timestamp, and says so once', async () => {
    const { cluster, follow, consumed, lines } = setup();
    cluster.timestampLookup = 'unsupported';
    cluster.append('t', 0, request('shop/a', T0 - 50_000), request('shop/a', T0 - 1_000));
    cluster.committed.set('meshpilot-telemetry', new Map([['t/0', '1']]));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(consumer.position('t', 0)).toBe(1);
    await consumer.deliver('t', 0);
    expect(await consumed()).toBe(1);
    consumer.revoke([{ topic: 't', partition: 0 }]);
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(lines.filter((l) => String(l.msg).includes('cannot look offsets up by timestamp'))).toHaveLength(1);
  });

  it('never hands an offset it already applied to the store again: not after a rebalance that keeps the partition, not in a batch that overlaps', async () => {
    const { cluster, follow, consumed, metric } = setup();
    cluster.timestampLookup = 'none';
    // The commit after the batch and the one on revocation fail: the group would restart at 0.
    cluster.failCommits = 2;
    for (let i = 0; i < 10; i++) cluster.append('t', 0, request('shop/a', T0 - 10_000 + i));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.deliver('t', 0);
    expect(await consumed()).toBe(10);

    consumer.revoke([{ topic: 't', partition: 0 }]);
    await settle();
    expect(cluster.committedOffset('meshpilot-telemetry', 't', 0)).toBeUndefined();
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(consumer.position('t', 0)).toBe(10);
    cluster.append('t', 0, request('shop/a', T0 - 1_000), request('shop/a', T0 - 500));
    // A batch fetched from before the seek overlaps what was applied.
    await consumer.deliver('t', 0, 5);
    expect(await consumed()).toBe(12);
    expect(await metric('meshpilot_telemetry_kafka_rebalances_total', { event: 'assigned' })).toBe(2);
    expect(await metric('meshpilot_telemetry_kafka_rebalances_total', { event: 'revoked' })).toBe(1);
  });

  it('commits a batch only after the store took it; a batch the store throws on is refused and not committed', async () => {
    let fail = true;
    const { cluster, follow, consumed } = setup({}, (store) => ({
      recordSample: (s) => store.recordSample(s),
      recordHealth: (h) => store.recordHealth(h),
      recordRequests: (source, list) => {
        if (fail) throw new Error('store unavailable');
        return store.recordRequests(source, list);
      },
    }));
    cluster.append('t', 0, request('shop/a', T0 - 1_000), request('shop/a', T0 - 900));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(await consumer.deliver('t', 0)).toBe(false);
    expect(consumer.commits).toEqual([]);
    expect(cluster.committedOffset('meshpilot-telemetry', 't', 0)).toBeUndefined();

    fail = false;
    expect(await consumer.deliver('t', 0)).toBe(true);
    expect(await consumed()).toBe(2);
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: '2' }]]);
  });

  it('dead-letters what it rejects, and keeps consuming when the dead-letter topic cannot be written', async () => {
    const { cluster, follow, consumed, metric, lines } = setup({ deadLetterTopic: (t) => `dlq.${t}` });
    cluster.failProduce = true;
    cluster.append('t', 0, { value: 'not json', key: 'k1', timestampMs: T0 }, request('shop/a', T0 - 1_000));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.deliver('t', 0);
    await settle();
    expect(await consumed()).toBe(1);
    expect(await metric('meshpilot_telemetry_events_rejected_total', { source: 'kafka', reason: 'malformed' })).toBe(1);
    expect(await metric('meshpilot_telemetry_dead_letters_total', { source: 'kafka', result: 'error' })).toBe(1);
    expect(lines.some((l) => l.msg === 'kafka: could not copy rejected messages to the dead-letter topic' && l.topic === 'dlq.t')).toBe(true);
    expect(consumer.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '2' }]);

    cluster.failProduce = false;
    cluster.append('t', 0, { value: '{"schema":"meshpilot.telemetry/v9"}', key: 'k2', timestampMs: T0, headers: { origin: 'edge' } });
    await consumer.deliver('t', 0);
    await settle();
    expect(cluster.produced).toHaveLength(1);
    const letter = cluster.produced[0]!;
    expect(letter.topic).toBe('dlq.t');
    expect(String(letter.message.key)).toBe('k2');
    expect(String(letter.message.value)).toBe('{"schema":"meshpilot.telemetry/v9"}');
    expect(letter.message.headers).toEqual({
      origin: 'edge',
      'meshpilot-reject-reason': 'unknown_version',
      'meshpilot-reject-field': 'schema',
      'meshpilot-reject-message': 'schema: version "meshpilot.telemetry/v9" is not read by this operator (it reads meshpilot.telemetry/v1)',
      'meshpilot-source-topic': 't',
      'meshpilot-source-partition': '0',
      'meshpilot-source-offset': '2',
    });
  });

  it('skips (and counts as unknown_route) events of routes that do not read the topic they came on', async () => {
    const { cluster, follow, consumed, metric, store } = setup();
    store.track(route('shop/b', 'elsewhere'));
    cluster.append('t', 0, request('shop/b', T0 - 1_000), request('shop/a', T0 - 1_000));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }]);
    await consumer.deliver('t', 0);
    expect(await consumed()).toBe(1);
    expect(await metric('meshpilot_telemetry_events_rejected_total', { reason: 'unknown_route' })).toBe(1);
  });

  it('keeps the offsets of a failed commit for the next one', async () => {
    const { cluster, follow, metric } = setup();
    cluster.failCommits = 1;
    cluster.append('t', 0, request('shop/a', T0 - 1_000));
    cluster.append('t', 1, request('shop/a', T0 - 1_000));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    await consumer.deliver('t', 0);
    expect(await metric('meshpilot_telemetry_kafka_commits_total', { result: 'error' })).toBe(1);
    await consumer.deliver('t', 1);
    expect(consumer.commits).toEqual([[{ topic: 't', partition: 0, offset: '1' }, { topic: 't', partition: 1, offset: '1' }]]);
    expect(await metric('meshpilot_telemetry_kafka_commits_total', { result: 'ok' })).toBe(1);
  });

  it('commits at most once per interval, and what is left when the interval passes', async () => {
    const { cluster, follow, clock } = setup({ commitIntervalMs: 1_000 });
    for (let p = 0; p < 3; p++) cluster.append('t', p, request('shop/a', T0 - 1_000));
    await follow(route('shop/a', 't'));
    const consumer = cluster.consumers()[0]!;
    await consumer.assign([0, 1, 2].map((partition) => ({ topic: 't', partition })));
    await consumer.deliver('t', 0);
    await consumer.deliver('t', 1);
    await consumer.deliver('t', 2);
    expect(consumer.commits).toHaveLength(1);
    await clock.advance(1_000);
    await settle();
    expect(consumer.commits).toEqual([
      [{ topic: 't', partition: 0, offset: '1' }],
      [
        { topic: 't', partition: 1, offset: '1' },
        { topic: 't', partition: 2, offset: '1' },
      ],
    ]);
  });

  it('reports joining, a consumer problem with its brokers, restarts a consumer that gave up', async () => {
    const { cluster, follow, source, clock } = setup({ retryBackoffMs: 5_000 });
    await follow(route('shop/a', 't'));
    expect(source.problem('shop/a')).toBe(`kafka ${[...BROKERS].sort().join(',')}: joining consumer group meshpilot-telemetry`);
    const consumer = cluster.consumers()[0]!;
    cluster.append('t', 0, request('shop/a', T0 - 4_000));
    await consumer.assign([{ topic: 't', partition: 0 }]);
    expect(source.problem('shop/a')).toBeUndefined();
    await consumer.deliver('t', 0);

    consumer.handlers!.onStatus('broker connection failed: connect ECONNREFUSED 10.0.0.1:9092', true);
    expect(source.problem('shop/a')).toBe(`kafka ${[...BROKERS].sort().join(',')}: broker connection failed: connect ECONNREFUSED 10.0.0.1:9092`);
    expect(consumer.stopped).toBe(true);
    await clock.advance(5_000);
    await settle();
    expect(cluster.consumers()).toHaveLength(2);
    expect(source.problem('shop/a')).toContain('joining consumer group');
    expect(source.problem('shop/other')).toBeUndefined();
  });
});
