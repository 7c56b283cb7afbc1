// Shared pieces of the Kafka source tests: route targets, events as producers write them, a
// log capture, metric reads and a kafkajs producer for the test side.
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { TELEMETRY_SCHEMA } from '../../../operator/telemetry/kafka/events.ts';
import type { RouteTarget } from '../../../operator/telemetry/types.ts';

export const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;

export function kafkaRoute(key: string, topic: string, brokers?: string[]): RouteTarget {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    key,
    namespace,
    name,
    host: `${name}.${namespace}`,
    regions: REGIONS.map((region) => ({ region, service: `${name}-${region}.${namespace}`, port: 8080, cluster: `${key}/${region}` })),
    telemetry: { kafka: brokers ? { topic, brokers } : { topic }, staleAfter: '30s' },
    decisionIntervalMs: 5_000,
    staleAfterMs: 30_000,
  };
}

export function requestEvent(route: string, region: string, latencyMs: unknown, error: boolean, time: string | number = Date.now()): string {
  return JSON.stringify({ schema: TELEMETRY_SCHEMA, type: 'request', route, region, time, latencyMs, error });
}

export interface CapturedLog {
  logger: Logger;
  lines: Record<string, unknown>[];
}

export function captureLog(level = 'info'): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** The value of one labelled series (0 when it does not exist yet). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Polls `check` until it returns something other than undefined/false; throws with `detail` after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, detail: () => unknown = () => '', timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await detail())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function testKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'meshpilot-test', brokers, logLevel: logLevel.NOTHING });
}

export async function testProducer(brokers: string[]): Promise<Producer> {
  const producer = testKafka(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  return producer;
}

/** Committed offsets of `groupId` on `topic`, by partition ("-1": none). */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** High watermarks of `topic`, by partition. */
export async function highWatermarks(brokers: string[], topic: string): Promise<Map<number, string>> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
  } finally {
    await admin.disconnect();
  }
}
