// The Kafka source through broker faults and group changes, on a librdkafka mock cluster driven
// by the C harness (test/support/kafka-mock/mock-cluster.c): the partition leader goes down and
// comes back, and a second member joins the consumer group. Nothing may be lost, nothing counted twice.
import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { KafkaSource } from '../../../operator/telemetry/kafka/kafka-source.ts';
import { kafkajsTransport } from '../../../operator/telemetry/kafka/kafkajs-transport.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { MockCluster } from '../../support/kafka.ts';
import { captureLog, committedOffsets, highWatermarks, kafkaRoute, metricValue, requestEvent, testKafka, testProducer, until } from './kafka-fixtures.ts';

const CONSUMED = 'meshpilot_telemetry_events_consumed_total';
const SESSION = { sessionTimeoutMs: 4_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100 };

describe('KafkaSource across broker restarts and rebalances', () => {
  let cluster: MockCluster;
  const sources: KafkaSource[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    cluster = await MockCluster.start(3);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all(sources.map((s) => s.close()));
    await cluster?.stop();
  });

  function world(groupId: string) {
    const registry = new Registry();
    const metrics = telemetryMetrics(registry);
    const log = captureLog();
    const store = new WindowStore({ clock: systemClock, metrics, logger: log.logger, windowMs: 60_000 });
    const source = new KafkaSource({
      sink: store,
      clock: systemClock,
      logger: log.logger,
      metrics,
      transport: kafkajsTransport({ logger: log.logger, ...SESSION, retries: 8 }),
      defaultBrokers: cluster.brokers,
      groupId,
      commitIntervalMs: 100,
      retryBackoffMs: 500,
      restartDebounceMs: 50,
    });
    sources.push(source);
    return { registry, store, source, log };
  }

  it('loses no event when the partition leader goes down and comes back', async () => {
    const topic = 'telemetry-restart';
    const groupId = 'restart-group';
    const key = 'shop/restart';
    await cluster.topic(topic, 1);
    await cluster.leader(topic, 0, 2);
    // The group coordinator stays up: this is about the partition leader.
    await cluster.coordinator('group', groupId, 3);

    const w = world(groupId);
    w.store.track(kafkaRoute(key, topic));
    w.source.watch(kafkaRoute(key, topic));
    const producer = await testProducer(cluster.brokers);
    const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ value: requestEvent(key, 'eu-west', from + i, false) }));
    await producer.send({ topic, messages: events(0, 50) });
    const consumed = () => metricValue(w.registry, CONSUMED, { source: 'kafka' });
    await until('the first 50 events', async () => (await consumed()) === 50, consumed);

    await cluster.down(2);
    // Produced while the leader is down: the producer retries until it is back.
    const during = producer.send({ topic, messages: events(50, 50) });
    await new Promise((r) => setTimeout(r, 1_500));
    await cluster.up(2);
    await during;
    await producer.send({ topic, messages: events(100, 50) });
    await producer.disconnect();

    await until('all 150 events after the restart', async () => (await consumed()) === 150, async () => ({ consumed: await consumed(), problem: w.source.problem(key) }), 25_000);
    await until('offsets committed to the end', async () => (await committedOffsets(cluster.brokers, groupId, topic)).get(0) === '150');
    expect(await consumed()).toBe(150);
    await until('no problem reported once reading again', () => w.source.problem(key) === undefined, () => w.source.problem(key));
  });

  it('handles a second member joining the group: partitions move, none is read twice or skipped', async () => {
    const topic = 'telemetry-rebalance';
    const groupId = 'rebalance-group';
    const key = 'shop/rebalance';
    await cluster.topic(topic, 4);
    await cluster.coordinator('group', groupId, 1);

    const w = world(groupId);
    w.store.track(kafkaRoute(key, topic));
    w.source.watch(kafkaRoute(key, topic));
    const producer = await testProducer(cluster.brokers);
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ partition: i % 4, value: requestEvent(key, 'us-east', 3 + i, false) }));
    await producer.send({ topic, messages: batch(40) });
    const consumed = () => metricValue(w.registry, CONSUMED, { source: 'kafka' });
    await until('the first 40 events', async () => (await consumed()) === 40, consumed);
    await until('offsets committed to the end', async () => {
      const [committed, high] = await Promise.all([committedOffsets(cluster.brokers, groupId, topic), highWatermarks(cluster.brokers, topic)]);
      return [...high].every(([p, h]) => committed.get(p) === h);
    });

    // A second member of the same group (a plain kafkajs consumer) takes some partitions.
    const second = testKafka(cluster.brokers).consumer({ groupId, sessionTimeout: SESSION.sessionTimeoutMs, heartbeatInterval: SESSION.heartbeatIntervalMs, maxWaitTimeInMs: 100 });
    consumers.push(second);
    let secondPartitions: number[] = [];
    const secondSeen = new Map<number, number>();
    second.on(second.events.GROUP_JOIN, ({ payload }) => {
      secondPartitions = payload.memberAssignment[topic] ?? [];
    });
    await second.connect();
    await second.subscribe({ topic, fromBeginning: true });
    await second.run({ eachMessage: async ({ partition }) => void secondSeen.set(partition, (secondSeen.get(partition) ?? 0) + 1) });
    const assigned = () => metricValue(w.registry, 'meshpilot_telemetry_kafka_rebalances_total', { event: 'assigned' });
    await until('the group rebalanced between both members', async () => secondPartitions.length > 0 && secondPartitions.length < 4 && (await assigned()) >= 2, async () => ({
      secondPartitions,
      assigned: await assigned(),
    }), 30_000); // the mock holds a rejoin up to a session timeout, longer on a loaded machine
    expect(await metricValue(w.registry, 'meshpilot_telemetry_kafka_rebalances_total', { event: 'revoked' })).toBeGreaterThanOrEqual(1);

    await producer.send({ topic, messages: batch(40) });
    await producer.disconnect();
    const mine = 40 - secondPartitions.length * 10;
    await until('each member read its partitions', async () => (await consumed()) === 40 + mine && [...secondSeen.values()].reduce((a, b) => a + b, 0) === secondPartitions.length * 10, async () => ({
      consumed: await consumed(),
      secondSeen: Object.fromEntries(secondSeen),
      secondPartitions,
    }));
    // Settled: still exact a moment later (nothing re-read after the rebalance).
    await new Promise((r) => setTimeout(r, 500));
    expect(await consumed()).toBe(40 + mine);
    expect([...secondSeen.keys()].sort()).toEqual([...secondPartitions].sort());
    expect(w.log.lines.filter((l) => l.msg === 'kafka: partitions assigned').length).toBeGreaterThanOrEqual(2);
  });
});
