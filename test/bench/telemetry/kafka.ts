// Request events per second from the broker into the window store, through one KafkaSource
// (one consumer-group member, kafkajs) on librdkafka's mock cluster (the C harness of
// test/support/kafka.ts: same mock as kcat's, without its per-request debug log).
//
// N request events (RFC 3339 timestamps, 10 routes × 3 regions interleaved, so nearly every
// event changes window) are produced beforehand with kcat -P into a 64-partition topic (the
// mock keeps only ~5 MB per partition; producing is not timed). Then the source starts; the
// clock runs from the group's assignment (the mock holds a group's first join for 3 s, which
// is not reading) until the window store has taken all N, counted by a pass-through sink.
// detail.fromStartMs includes the join.
//
// Profile (1M events, 2 cores, the mock on the other core): of ~1.8 s, parsing takes ~45 %
// (JSON.parse alone ~25 %, field checks and RFC 3339 ~20 %), kafkajs's record decoding and
// its Long offset arithmetic ~30 %, the window store ~8 %, GC the rest. The consumer is
// CPU-bound on one core; fetch sizes do not matter.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { TELEMETRY_SCHEMA } from '../../../operator/telemetry/kafka/events.ts';
import { KafkaSource } from '../../../operator/telemetry/kafka/kafka-source.ts';
import { kafkajsTransport } from '../../../operator/telemetry/kafka/kafkajs-transport.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import type { TelemetrySink } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';
import { kcatProduce, MockCluster } from '../../support/kafka.ts';
import { BENCH_REGIONS, benchTarget } from './routes.ts';

const REGIONS = BENCH_REGIONS;
const ROUTES = 10;
const PARTITIONS = 64;
const TOPIC = 'bench-requests';

export interface KafkaBenchResult {
  kafkaEventsPerSec: number;
  events: number;
  /** From KafkaSource.watch to the last event in the store, including the group join. */
  fromStartMs: number;
  /** From the partition assignment to the last event in the store (what kafkaEventsPerSec divides by). */
  consumeMs: number;
  joinMs: number;
  produceMs: number;
  bytesPerEvent: number;
  partitions: number;
  rejected: number;
}

function log(message: string): void {
  process.stderr.write(`[bench kafka] ${message}\n`);
}


function writeEvents(file: string, n: number, nowMs: number): number {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({
      schema: TELEMETRY_SCHEMA,
      type: 'request',
      route: `bench/route-${i % ROUTES}`,
      region: REGIONS[Math.floor(i / ROUTES) % REGIONS.length],
      time: new Date(nowMs - (i % 5_000)).toISOString(),
      latencyMs: 5 + ((i * 7919) % 400) / 4,
      error: i % 100 === 0,
    });
    bytes += line.length;
    lines.push(line);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return bytes / n;
}

export async function benchKafka(options: { quick: boolean }): Promise<KafkaBenchResult> {
  const events = options.quick ? 100_000 : 1_000_000;
  const cluster = await MockCluster.start(3);
  const file = join(tmpdir(), `meshpilot-bench-kafka-${process.pid}.jsonl`);
  let source: KafkaSource | undefined;
  try {
    await cluster.topic(TOPIC, PARTITIONS);
    log(`writing ${events} request events`);
    const bytesPerEvent = writeEvents(file, events, Date.now());
    let started = performance.now();
    kcatProduce(cluster.bootstrap, TOPIC, file);
    const produceMs = performance.now() - started;
    log(`produced ${events} events (${Math.round(bytesPerEvent)} bytes each) to ${PARTITIONS} partitions in ${Math.round(produceMs)} ms`);

    const registry = new Registry();
    const metrics = telemetryMetrics(registry);
    const logger = pino({ level: 'warn' }, pino.destination(2));
    // A window long enough that no event expires while the bench runs.
    const store = new WindowStore({ clock: systemClock, metrics, logger, windowMs: 600_000 });
    let taken = 0;
    let assignedAt: number | undefined;
    let done!: (at: number) => void;
    const finished = new Promise<number>((resolve) => (done = resolve));
    const sink: TelemetrySink = {
      recordSample: (s) => store.recordSample(s),
      recordHealth: (h) => store.recordHealth(h),
      recordRequests: (kind, list) => {
        const kept = store.recordRequests(kind, list);
        taken += kept;
        if (taken >= events) done(performance.now());
        return kept;
      },
    };
    const timingLogger = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          if (assignedAt === undefined && line.includes('"kafka: partitions assigned"')) assignedAt = performance.now();
          if (line.includes('"level":40') || line.includes('"level":50')) process.stderr.write(line);
        },
      },
    );
    source = new KafkaSource({
      sink,
      clock: systemClock,
      logger: timingLogger,
      metrics,
      // The transport's default fetch sizes (1 MiB per partition, 10 MiB per request): 32 and
      // 64 MiB per request measured the same, since parsing, not fetching, is the limit.
      transport: kafkajsTransport({ logger, maxWaitTimeMs: 100 }),
      defaultBrokers: cluster.brokers,
      groupId: 'bench',
      restartDebounceMs: 0,
      windowMs: 600_000,
    });
    for (let i = 0; i < ROUTES; i++) store.track(benchTarget(i, { kafka: { topic: TOPIC }, staleAfter: '30s' }, { decisionIntervalMs: 5_000, staleAfterMs: 30_000 }));
    started = performance.now();
    for (let i = 0; i < ROUTES; i++) source.watch(benchTarget(i, { kafka: { topic: TOPIC }, staleAfter: '30s' }, { decisionIntervalMs: 5_000, staleAfterMs: 30_000 }));
    const progress = setInterval(() => log(`${taken} / ${events} in the store`), 2_000);
    const end = await Promise.race([
      finished,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${taken} of ${events} events reached the store in 120 s`)), 120_000).unref()),
    ]).finally(() => clearInterval(progress));
    const rejected = (await registry.getSingleMetric('meshpilot_telemetry_events_rejected_total')!.get()).values.reduce((s, v) => s + v.value, 0);
    const from = assignedAt ?? started;
    const consumeMs = end - from;
    const result: KafkaBenchResult = {
      kafkaEventsPerSec: Math.round(events / (consumeMs / 1000)),
      events,
      fromStartMs: Math.round(end - started),
      consumeMs: Math.round(consumeMs),
      joinMs: Math.round(from - started),
      produceMs: Math.round(produceMs),
      bytesPerEvent: Math.round(bytesPerEvent),
      partitions: PARTITIONS,
      rejected,
    };
    log(`${events} events in ${result.consumeMs} ms after the join: ${result.kafkaEventsPerSec} events/s`);
    return result;
  } finally {
    await source?.close();
    await cluster.stop();
    rmSync(file, { force: true });
  }
}
