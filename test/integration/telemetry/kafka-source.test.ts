// The Kafka source against librdkafka's mock cluster (kept alive by Debian's kcat): kafkajs
// produces, the source consumes through a real consumer group into the real window store.
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { DEAD_LETTER_HEADERS } from '../../../operator/telemetry/kafka/dead-letters.ts';
import { TELEMETRY_SCHEMA } from '../../../operator/telemetry/kafka/events.ts';
import { KafkaSource } from '../../../operator/telemetry/kafka/kafka-source.ts';
import { kafkajsTransport } from '../../../operator/telemetry/kafka/kafkajs-transport.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { TelemetrySink } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { startKcatCluster, type KafkaCluster } from '../../support/kafka.ts';
import {
  captureLog,
  committedOffsets,
  highWatermarks,
  kafkaRoute,
  metricValue,
  requestEvent,
  testKafka,
  testProducer,
  until,
  type CapturedLog,
} from './kafka-fixtures.ts';

const CONSUMED = 'meshpilot_telemetry_events_consumed_total';
const REJECTED = 'meshpilot_telemetry_events_rejected_total';

interface World {
  registry: Registry;
  store: WindowStore;
  source: KafkaSource;
  log: CapturedLog;
}

describe('KafkaSource with a kcat mock cluster', () => {
  let cluster: KafkaCluster;
  const sources: KafkaSource[] = [];

  beforeAll(async () => {
    cluster = await startKcatCluster(3);
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.close()));
    await cluster?.stop();
  });

  function world(groupId: string, sinkOf: (store: WindowStore) => TelemetrySink = (s) => s, commitIntervalMs = 100): World {
    const registry = new Registry();
    const metrics = telemetryMetrics(registry);
    const log = captureLog();
    const store = new WindowStore({ clock: systemClock, metrics, registry, logger: log.logger, windowMs: 60_000, maxClockSkewMs: 30_000 });
    const source = new KafkaSource({
      sink: sinkOf(store),
      clock: systemClock,
      logger: log.logger,
      metrics,
      transport: kafkajsTransport({ logger: log.logger, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500, maxWaitTimeMs: 100, redeliveryBackoffMs: 200 }),
      defaultBrokers: cluster.brokers,
      groupId,
      commitIntervalMs,
      restartDebounceMs: 50,
    });
    sources.push(source);
    return { registry, store, source, log };
  }

  it('reads request, window and health events through a consumer group into the window store', async () => {
    const topic = 'telemetry-basic';
    const key = 'shop/checkout';
    const producer = await testProducer(cluster.brokers);
    const now = Date.now();
    // eu-west: 40 requests, 10 ms..49 ms, 4 errors (1 in 10) — raw events the store aggregates.
    const requests = Array.from({ length: 40 }, (_, i) => ({ key, value: requestEvent(key, 'eu-west', 10 + i, i % 10 === 0, new Date(now - 2_000 + i).toISOString()) }));
    // us-east: one pre-aggregated 10 s window: 600 requests, 6 errors.
    const window = {
      schema: TELEMETRY_SCHEMA,
      type: 'window',
      route: key,
      region: 'us-east',
      start: now - 11_000,
      end: now - 1_000,
      requests: 600,
      errors: 6,
      latencyMs: { p50: 12, p90: 30, p99: 80 },
      saturation: 0.4,
    };
    const health = { schema: TELEMETRY_SCHEMA, type: 'health', route: key, region: 'ap-south', time: new Date(now - 500).toISOString(), healthy: false, reason: 'zone drained' };
    await producer.send({ topic, messages: [...requests, { key, value: JSON.stringify(window) }, { key, value: JSON.stringify(health) }] });
    await producer.disconnect();

    const w = world('basic');
    w.store.track(kafkaRoute(key, topic));
    w.source.watch(kafkaRoute(key, topic));
    await until('all 42 events in the store', async () => (await metricValue(w.registry, CONSUMED, { source: 'kafka' })) === 42, async () => ({
      consumed: await metricValue(w.registry, CONSUMED),
      problem: w.source.problem(key),
    }));

    const snapshot = w.store.snapshot(key)!;
    const eu = snapshot.regions.find((r) => r.region === 'eu-west')!;
    expect(eu.signals.errorRate.value).toBeCloseTo(0.1, 9);
    expect(eu.signals.latencyP50.value).toBeGreaterThanOrEqual(28 * 0.99);
    expect(eu.signals.latencyP50.value).toBeLessThanOrEqual(30 * 1.01);
    expect(eu.signals.requestRate.value).toBeGreaterThan(0);
    expect(eu.signals.requestRate.source).toBe('kafka');
    const us = snapshot.regions.find((r) => r.region === 'us-east')!;
    expect(us.signals.requestRate.value).toBeCloseTo(60, 9);
    expect(us.signals.errorRate.value).toBeCloseTo(0.01, 9);
    expect(us.signals.latencyP99.value).toBe(80);
    expect(us.signals.saturation.value).toBe(0.4);
    const ap = snapshot.regions.find((r) => r.region === 'ap-south')!;
    expect(ap.health).toMatchObject({ healthy: false, reason: 'zone drained', source: 'kafka' });
    expect(snapshot.sources).toEqual(['kafka']);

    expect(w.source.problem(key)).toBeUndefined();
    expect(await w.registry.metrics()).toMatch(/^meshpilot_telemetry_lag_seconds\{source="kafka"\} \d/m);
    expect(await metricValue(w.registry, REJECTED)).toBe(0);
    expect(await metricValue(w.registry, 'meshpilot_telemetry_kafka_rebalances_total', { event: 'assigned' })).toBeGreaterThanOrEqual(1);
    expect(w.log.lines.some((l) => l.msg === 'kafka: partitions assigned')).toBe(true);
    // librdkafka 2.0's mock answers ListOffsets by timestamp with "no offset" (a FIXME in its
    // handler): the source must notice and fall back to committed offsets, not skip to the end.
    expect(w.log.lines.some((l) => String(l.msg).includes('cannot look offsets up by timestamp'))).toBe(true);
    // Committed only what the store holds, and everything it holds.
    await until('offsets committed up to the end', async () => {
      const [committed, high] = await Promise.all([committedOffsets(cluster.brokers, 'basic', topic), highWatermarks(cluster.brokers, topic)]);
      return [...high].every(([p, h]) => h === '0' || committed.get(p) === h);
    });
  });

  it('counts, logs, dead-letters and skips each kind of bad message, and keeps consuming', async () => {
    const topic = 'telemetry-bad';
    const key = 'shop/cart';
    const now = Date.now();
    const bad: Record<string, string> = {
      malformed: '{"schema": "meshpilot.telemetry/v1", "type": "request", ',
      unknown_version: JSON.stringify({ schema: 'meshpilot.telemetry/v2', type: 'request' }),
      too_large: JSON.stringify({ schema: TELEMETRY_SCHEMA, type: 'request', route: key, region: 'eu-west', time: now, latencyMs: 1, error: false, pad: 'x'.repeat(70_000) }),
      negative: requestEvent(key, 'eu-west', -3, false, now),
      nan: requestEvent(key, 'eu-west', NaN, false, now), // JSON.stringify writes NaN as null
      future_timestamp: requestEvent(key, 'eu-west', 5, false, now + 3_600_000),
    };
    // One partition, so "after the bad ones" is a real order.
    const producer = await testProducer(cluster.brokers);
    await producer.send({
      topic,
      messages: [
        ...Object.entries(bad).map(([name, value]) => ({ key: name, value, partition: 0, headers: { 'x-origin': 'test' } })),
        { key: 'good', value: requestEvent(key, 'eu-west', 7, false, now), partition: 0 },
      ],
    });
    await producer.disconnect();

    const w = world('bad-input');
    w.store.track(kafkaRoute(key, topic));
    w.source.watch(kafkaRoute(key, topic));
    await until('the good event after the bad ones', async () => (await metricValue(w.registry, CONSUMED, { source: 'kafka' })) === 1);

    const rejected = async (reason: string) => metricValue(w.registry, REJECTED, { source: 'kafka', reason });
    expect(await rejected('malformed')).toBe(1);
    expect(await rejected('unknown_version')).toBe(1);
    expect(await rejected('too_large')).toBe(1);
    expect(await rejected('invalid_value')).toBe(2);
    expect(await rejected('future_timestamp')).toBe(1);
    const warned = w.log.lines.filter((l) => l.msg && String(l.msg).startsWith('kafka: telemetry event rejected'));
    for (const reason of ['malformed', 'unknown_version', 'too_large', 'invalid_value', 'future_timestamp']) {
      expect(warned.some((l) => l.reason === reason)).toBe(true);
    }
    expect(warned.find((l) => l.field === 'latencyMs')?.msg).toContain('latencyMs: must be a finite number >= 0, got -3');

    // Every rejected message is in the dead-letter topic: original key/value, and why.
    await until('6 dead letters produced', async () => (await metricValue(w.registry, 'meshpilot_telemetry_dead_letters_total', { result: 'ok' })) === 6);
    const consumer = testKafka(cluster.brokers).consumer({ groupId: 'dead-letter-reader', sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const letters: { key: string; value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.deadletter`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        letters.push({ key: String(message.key), value: String(message.value), headers });
      },
    });
    await until('6 dead letters read back', () => letters.length >= 6, () => letters.length);
    await consumer.disconnect();
    expect(letters.map((l) => l.key).sort()).toEqual(Object.keys(bad).sort());
    for (const letter of letters) {
      expect(letter.value).toBe(bad[letter.key]);
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(topic);
      expect(letter.headers[DEAD_LETTER_HEADERS.partition]).toBe('0');
      expect(Number(letter.headers[DEAD_LETTER_HEADERS.offset])).toBeGreaterThanOrEqual(0);
      expect(letter.headers[DEAD_LETTER_HEADERS.message]).toBeTruthy();
      expect(letter.headers['x-origin']).toBe('test');
    }
    const reasons = Object.fromEntries(letters.map((l) => [l.key, l.headers[DEAD_LETTER_HEADERS.reason]]));
    expect(reasons).toEqual({
      malformed: 'malformed',
      unknown_version: 'unknown_version',
      too_large: 'too_large',
      negative: 'invalid_value',
      nan: 'invalid_value',
      future_timestamp: 'future_timestamp',
    });
    expect(w.source.problem(key)).toBeUndefined();
  });

  it('commits offsets only after the window store holds the data: a batch the store throws on is delivered again', async () => {
    const topic = 'telemetry-commit';
    const key = 'shop/pay';
    const groupId = 'commit-after-store';
    let failing = true;
    let failures = 0;
    const world_ = world(groupId, (store) => ({
      recordSample: (s) => store.recordSample(s),
      recordHealth: (h) => store.recordHealth(h),
      recordRequests: (source, list) => {
        if (failing) {
          failures++;
          throw new Error('window store unavailable (test)');
        }
        return store.recordRequests(source, list);
      },
    }), 0);
    world_.store.track(kafkaRoute(key, topic));
    world_.source.watch(kafkaRoute(key, topic));
    const producer = await testProducer(cluster.brokers);
    const now = Date.now();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: String(i), value: requestEvent(key, 'us-east', 5 + i, false, now) })) });
    await producer.disconnect();

    await until('the store refused a batch twice (delivered again)', () => failures >= 2, () => failures);
    const whileFailing = await committedOffsets(cluster.brokers, groupId, topic);
    expect([...whileFailing.values()].every((o) => o === '-1')).toBe(true);
    expect(await metricValue(world_.registry, CONSUMED)).toBe(0);

    failing = false;
    await until('all 20 events in the store', async () => (await metricValue(world_.registry, CONSUMED, { source: 'kafka' })) === 20);
    await until('offsets committed after the store took the batches', async () => {
      const [committed, high] = await Promise.all([committedOffsets(cluster.brokers, groupId, topic), highWatermarks(cluster.brokers, topic)]);
      return [...high].every(([p, h]) => h === '0' || committed.get(p) === h);
    });
    // Redelivery did not count anything twice.
    expect(await metricValue(world_.registry, CONSUMED, { source: 'kafka' })).toBe(20);
  });

  it('says which brokers it cannot reach', async () => {
    const registry = new Registry();
    const log = captureLog();
    const source = new KafkaSource({
      sink: new WindowStore({ clock: systemClock, metrics: telemetryMetrics(registry) }),
      clock: systemClock,
      logger: log.logger,
      metrics: telemetryMetrics(registry),
      transport: kafkajsTransport({ logger: log.logger, retries: 0, connectionTimeoutMs: 500 }),
      retryBackoffMs: 60_000,
    });
    sources.push(source);
    source.watch(kafkaRoute('shop/gone', 'telemetry-gone', ['127.0.0.1:1']));
    const problem = await until('a connection problem', () => {
      const p = source.problem('shop/gone');
      return p?.includes('broker connection failed') ? p : undefined;
    }, () => source.problem('shop/gone'));
    expect(problem).toMatch(/^kafka 127\.0\.0\.1:1: broker connection failed: .*ECONNREFUSED/);

    const unconfigured = new KafkaSource({ sink: new WindowStore({ clock: systemClock, metrics: telemetryMetrics(registry) }), logger: log.logger, metrics: telemetryMetrics(registry), transport: kafkajsTransport({ logger: log.logger }) });
    sources.push(unconfigured);
    unconfigured.watch(kafkaRoute('shop/nobrokers', 'telemetry-x'));
    expect(unconfigured.problem('shop/nobrokers')).toContain('no brokers configured');
    expect(unconfigured.problem('shop/unknown')).toBeUndefined();
  });
});
