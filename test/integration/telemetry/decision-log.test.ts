// The Kafka decision log against a librdkafka mock cluster (C harness, so the brokers can be
// taken down): records are readable by a plain consumer, in order per route; with every broker
// down, record() returns at once and the oldest records are dropped and counted.
import { Registry } from 'prom-client';
import type { RouteSnapshot } from '../../../operator/telemetry/types.ts';
import { DECISION_SCHEMA, OUTCOME_SCHEMA, type DecisionRecord, type OutcomeRecord } from '../../../operator/telemetry/decision-log.ts';
import { KafkaDecisionLog, SCHEMA_HEADER } from '../../../operator/telemetry/kafka/kafka-decision-log.ts';
import { kafkajsTransport } from '../../../operator/telemetry/kafka/kafkajs-transport.ts';
import { MockCluster } from '../../support/kafka.ts';
import { captureLog, metricValue, testKafka, until } from './kafka-fixtures.ts';

const RECORDS = 'meshpilot_decision_log_records_total';

function snapshot(route: string, atMs: number): RouteSnapshot {
  const reading = { value: 12.5, fresh: true, ageMs: 1_000, source: 'kafka' as const };
  return {
    route,
    atMs,
    staleAfterMs: 30_000,
    fresh: true,
    sources: ['kafka'],
    regions: [
      {
        region: 'eu-west',
        signals: { requestRate: reading, errorRate: { ...reading, value: 0.01 }, latencyP50: reading, latencyP90: reading, latencyP99: reading, saturation: { ...reading, value: null, fresh: false, ageMs: null, source: null } },
        health: { healthy: true, fresh: true, ageMs: 1_000, source: 'kafka' },
        trends: { requestRate: 0.1, latencyP99: null },
        newestAgeMs: 1_000,
        fresh: true,
      },
    ],
  };
}

function decision(route: string, seq: number): DecisionRecord {
  const atMs = Date.UTC(2026, 0, 1) + seq * 1_000;
  return {
    schema: DECISION_SCHEMA,
    id: `${route}#${seq}`,
    route,
    generation: 3,
    time: new Date(atMs).toISOString(),
    mode: 'active',
    policy: 'ppo',
    modelVersion: 'ppo-2026-01',
    observation: snapshot(route, atMs),
    features: [0.1, 0.2, seq],
    action: { weights: [{ region: 'eu-west', weight: 100 }], retryAttempts: 2, perTryTimeoutMs: 250, timeoutMs: 1_000 },
    actionProbability: 0.42,
    applied: true,
    reason: 'policy',
  };
}

function outcome(route: string, seq: number): OutcomeRecord {
  const atMs = Date.UTC(2026, 0, 1) + seq * 1_000 + 500;
  return { schema: OUTCOME_SCHEMA, decisionId: `${route}#${seq}`, route, time: new Date(atMs).toISOString(), observation: snapshot(route, atMs) };
}

interface Read {
  key: string;
  partition: number;
  schema: string;
  record: DecisionRecord | OutcomeRecord;
}

async function readAll(brokers: string[], topic: string, expected: number, groupId: string): Promise<Read[]> {
  const consumer = testKafka(brokers).consumer({ groupId, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        read.push({ key: String(message.key), partition, schema: String(message.headers?.[SCHEMA_HEADER]), record: JSON.parse(String(message.value)) as DecisionRecord });
      },
    });
    await until(`${expected} records read back`, () => read.length >= expected, () => read.length);
  } finally {
    await consumer.disconnect();
  }
  return read;
}

describe('KafkaDecisionLog with a mock cluster', () => {
  let cluster: MockCluster;
  const logs: KafkaDecisionLog[] = [];

  beforeAll(async () => {
    cluster = await MockCluster.start(3);
  });

  afterAll(async () => {
    await Promise.all(logs.map((l) => l.close()));
    await cluster?.stop();
  });

  function decisionLog(topic: string, options: { maxBuffered?: number; maxBatch?: number } = {}) {
    const registry = new Registry();
    const log = captureLog();
    const transport = kafkajsTransport({ logger: log.logger, retries: 2, connectionTimeoutMs: 300 })({ brokers: cluster.brokers, clientId: 'meshpilot-test' });
    const decisions = new KafkaDecisionLog({ transport, topic, registry, logger: log.logger, retryBackoffMs: 100, flushTimeoutMs: 20_000, ...options });
    logs.push(decisions);
    return { registry, decisions, log };
  }

  it('produces decisions and outcomes that a plain consumer reads back, in order per route', async () => {
    const topic = 'decisions-order';
    await cluster.topic(topic, 4);
    const { registry, decisions } = decisionLog(topic, { maxBatch: 7 });
    const routes = ['shop/checkout', 'shop/cart', 'pay/charge'];
    for (let seq = 0; seq < 20; seq++) {
      for (const route of routes) {
        decisions.record(decision(route, seq));
        if (seq % 2 === 1) decisions.recordOutcome(outcome(route, seq - 1));
      }
    }
    await decisions.flush();
    expect(await metricValue(registry, RECORDS, { kind: 'decision', result: 'produced' })).toBe(60);
    expect(await metricValue(registry, RECORDS, { kind: 'outcome', result: 'produced' })).toBe(30);
    expect(await metricValue(registry, RECORDS, { result: 'dropped' })).toBe(0);
    expect(await metricValue(registry, 'meshpilot_decision_log_buffered')).toBe(0);

    const read = await readAll(cluster.brokers, topic, 90, 'decision-reader-order');
    expect(read).toHaveLength(90);
    for (const route of routes) {
      const mine = read.filter((r) => r.key === route);
      // One route, one partition: its records keep the order they were recorded in.
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
      const expected: (DecisionRecord | OutcomeRecord)[] = [];
      for (let seq = 0; seq < 20; seq++) {
        expected.push(decision(route, seq));
        if (seq % 2 === 1) expected.push(outcome(route, seq - 1));
      }
      expect(mine.map((r) => r.record)).toEqual(expected);
      expect(mine.map((r) => r.schema)).toEqual(expected.map((r) => r.schema));
    }
  });

  it('never blocks while every broker is down: the oldest records are dropped and counted, the rest produced once it is back', async () => {
    const topic = 'decisions-down';
    await cluster.topic(topic, 1);
    const { registry, decisions, log } = decisionLog(topic, { maxBuffered: 100, maxBatch: 10 });
    decisions.record(decision('shop/down', 0));
    await decisions.flush();
    expect(await metricValue(registry, RECORDS, { result: 'produced' })).toBe(1);

    await cluster.down(-1);
    for (let seq = 1; seq <= 1_000; seq++) decisions.record(decision('shop/down', seq));
    // Nothing could be produced during that loop: record() returned each time without waiting.
    const buffered = decisions.buffered;
    expect(buffered).toBeLessThanOrEqual(100);
    expect(await metricValue(registry, RECORDS, { result: 'dropped' })).toBe(1_000 - buffered);
    expect(await metricValue(registry, 'meshpilot_decision_log_buffered')).toBe(buffered);
    // A failed attempt keeps what it held (counted neither produced nor dropped).
    await until('a failed produce attempt', () => log.lines.some((l) => String(l.msg).startsWith('decision log: produce failed')));
    expect(decisions.buffered).toBe(buffered);
    expect(await metricValue(registry, RECORDS, { result: 'produced' })).toBe(1);

    await cluster.up(-1);
    await decisions.flush();
    const produced = await metricValue(registry, RECORDS, { result: 'produced' });
    const dropped = await metricValue(registry, RECORDS, { result: 'dropped' });
    expect(produced + dropped).toBe(1_001);
    expect(dropped).toBe(1_000 - buffered);
    expect(produced).toBeGreaterThanOrEqual(91);
    expect(decisions.buffered).toBe(0);

    const read = await readAll(cluster.brokers, topic, produced, 'decision-reader-down');
    const seqs = read.map((r) => Number((r.record as DecisionRecord).id.split('#')[1]));
    expect(seqs).toHaveLength(produced);
    // The newest survived, in order; what was dropped is the oldest.
    expect(seqs[0]).toBe(0);
    expect(seqs.at(-1)).toBe(1_000);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.slice(1)).toEqual(Array.from({ length: produced - 1 }, (_, i) => 1_001 - (produced - 1) + i));
  });
});
