// The decision log on a Kafka topic. `record` only serialises into a bounded in-memory buffer;
// a background loop produces it in batches (key = route, so one route's records stay in one
// partition, in order; acks from every in-sync replica). When Kafka is slow or down the
// buffer fills and the oldest records are dropped and counted: the controller never waits.
import type { Logger } from 'pino';
import type { Counter, Gauge, Registry } from 'prom-client';
import { systemClock, type Clock } from '../../base/clock.ts';
import { counter, gauge } from '../../base/metrics.ts';
import type { DecisionLog, DecisionRecord, OutcomeRecord } from '../decision-log.ts';
import { RateLimitedLog } from '../log-limiter.ts';
import type { KafkaTransport, Producer } from './transport.ts';

export const DEFAULT_DECISION_TOPIC = 'meshpilot.decisions';
/** Header carrying the record's schema, so a reader can dispatch without parsing. */
export const SCHEMA_HEADER = 'meshpilot-schema';

export interface KafkaDecisionLogOptions {
  /** The cluster to write to (kafkajsTransport(...)({ brokers, clientId }) in production). */
  transport: KafkaTransport;
  /** Default "meshpilot.decisions". */
  topic?: string;
  registry: Registry;
  logger: Logger;
  clock?: Clock;
  /** Records held while Kafka is slow or down; beyond it the oldest are dropped (default 10,000). */
  maxBuffered?: number;
  /** Records per produce request (default 500). */
  maxBatch?: number;
  /** Wait after the first record for more to share its request (default 20 ms). */
  lingerMs?: number;
  /** Wait before retrying after a failed produce (default 1 s). */
  retryBackoffMs?: number;
  /** Larger serialised records are not produced (counted as errors; default 512 KiB, below Kafka's 1 MiB default). */
  maxRecordBytes?: number;
  /** How long flush() and close() wait for Kafka (default 10 s). */
  flushTimeoutMs?: number;
}

type Kind = 'decision' | 'outcome';

interface Buffered {
  kind: Kind;
  key: string;
  value: string;
  schema: string;
}

interface DecisionLogMetrics {
  records: Counter<'kind' | 'result'>;
  buffered: Gauge;
}

export function decisionLogMetrics(registry: Registry): DecisionLogMetrics {
  return {
    records: counter(registry, {
      name: 'meshpilot_decision_log_records_total',
      help: 'Decision log records, by kind (decision, outcome) and result (produced, dropped, error)',
      labelNames: ['kind', 'result'],
    }),
    buffered: gauge(registry, {
      name: 'meshpilot_decision_log_buffered',
      help: 'Decision log records waiting to be produced',
      labelNames: [],
    }),
  };
}

export class KafkaDecisionLog implements DecisionLog {
  readonly #transport: KafkaTransport;
  readonly #topic: string;
  readonly #metrics: DecisionLogMetrics;
  readonly #logger: Logger;
  readonly #log: RateLimitedLog;
  readonly #clock: Clock;
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  readonly #retryBackoffMs: number;
  readonly #maxRecordBytes: number;
  readonly #flushTimeoutMs: number;
  #producer: Producer | undefined;
  /** FIFO; `#head` is the index of the oldest record (cheap removal from the front). */
  #buffer: Buffered[] = [];
  #head = 0;
  #inFlight: Buffered[] = [];
  #draining: Promise<void> | undefined;
  /** Cut short the linger or the retry backoff (flush, close). */
  #wake: AbortController | undefined;
  #urgent = false;
  #closed = false;
  /** close() has counted what was left; a send that ends later changes nothing. */
  #finalized = false;

  constructor(options: KafkaDecisionLogOptions) {
    this.#transport = options.transport;
    this.#topic = options.topic ?? DEFAULT_DECISION_TOPIC;
    this.#metrics = decisionLogMetrics(options.registry);
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#log = new RateLimitedLog(options.logger, this.#clock);
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#lingerMs = options.lingerMs ?? 20;
    this.#retryBackoffMs = options.retryBackoffMs ?? 1_000;
    this.#maxRecordBytes = options.maxRecordBytes ?? 512 * 1024;
    this.#flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
    if (!(this.#maxBuffered >= 1) || !(this.#maxBatch >= 1)) throw new RangeError('decision log: maxBuffered and maxBatch must be >= 1');
  }

  record(d: DecisionRecord): void {
    this.#enqueue('decision', d.route, d.schema, d);
  }

  recordOutcome(o: OutcomeRecord): void {
    this.#enqueue('outcome', o.route, o.schema, o);
  }

  /** Records waiting to be produced, including a batch in flight. */
  get buffered(): number {
    return this.#waiting() + this.#inFlight.length;
  }

  #waiting(): number {
    return this.#buffer.length - this.#head;
  }

  #enqueue(kind: Kind, key: string, schema: string, record: DecisionRecord | OutcomeRecord): void {
    if (this.#closed) {
      this.#metrics.records.inc({ kind, result: 'dropped' });
      this.#log.warn('closed', { kind, route: key }, 'decision log: record after close dropped');
      return;
    }
    let value: string;
    try {
      value = JSON.stringify(record);
    } catch (e) {
      this.#metrics.records.inc({ kind, result: 'error' });
      this.#log.warn('serialise', { kind, route: key, err: e }, 'decision log: record cannot be serialised; dropped');
      return;
    }
    if (value.length > this.#maxRecordBytes || Buffer.byteLength(value) > this.#maxRecordBytes) {
      this.#metrics.records.inc({ kind, result: 'error' });
      this.#log.warn('size', { kind, route: key, bytes: Buffer.byteLength(value), limit: this.#maxRecordBytes }, 'decision log: record too large; dropped');
      return;
    }
    this.#buffer.push({ kind, key, value, schema });
    this.#metrics.buffered.inc();
    this.#trim();
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  /** Drops the oldest waiting records beyond the bound (a batch in flight is not touched). */
  #trim(): void {
    let dropped = 0;
    while (this.buffered > this.#maxBuffered && this.#waiting() > 0) {
      const oldest = this.#buffer[this.#head]!;
      this.#buffer[this.#head] = undefined as unknown as Buffered;
      this.#head++;
      this.#metrics.records.inc({ kind: oldest.kind, result: 'dropped' });
      dropped++;
    }
    if (dropped > 0) {
      this.#metrics.buffered.dec(dropped);
      this.#log.warn('full', { dropped, maxBuffered: this.#maxBuffered }, 'decision log: buffer full; oldest records dropped');
    }
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }

  async #drain(): Promise<void> {
    if (!this.#urgent) await this.#pause(this.#lingerMs);
    while (!this.#closed && this.#waiting() > 0) {
      const end = Math.min(this.#buffer.length, this.#head + this.#maxBatch);
      const batch = this.#buffer.slice(this.#head, end);
      for (let i = this.#head; i < end; i++) this.#buffer[i] = undefined as unknown as Buffered;
      this.#head = end;
      this.#inFlight = batch;
      try {
        this.#producer ??= this.#transport.producer({ acksAll: true });
        await this.#producer.send(
          this.#topic,
          batch.map((r) => ({ key: r.key, value: r.value, headers: { [SCHEMA_HEADER]: r.schema } })),
        );
      } catch (e) {
        if (this.#finalized) return;
        // Back to the front, oldest first: if the buffer overflows meanwhile, these go first.
        this.#buffer = [...batch, ...this.#buffer.slice(this.#head)];
        this.#head = 0;
        this.#inFlight = [];
        this.#trim();
        this.#log.warn('produce', { topic: this.#topic, records: batch.length, buffered: this.buffered, err: e }, 'decision log: produce failed; keeping records and retrying');
        if (this.#closed) return;
        await this.#pause(this.#retryBackoffMs);
        continue;
      }
      if (this.#finalized) return;
      this.#inFlight = [];
      for (const sent of batch) this.#metrics.records.inc({ kind: sent.kind, result: 'produced' });
      this.#metrics.buffered.dec(batch.length);
      this.#trim();
    }
  }

  #pause(ms: number): Promise<void> {
    const wake = new AbortController();
    this.#wake = wake;
    return this.#clock.sleep(ms, wake.signal).catch(() => undefined);
  }

  async flush(): Promise<void> {
    this.#urgent = true;
    this.#wake?.abort();
    const draining = this.#draining;
    if (draining) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        draining.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#flushTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) this.#logger.warn({ topic: this.#topic, buffered: this.buffered }, 'decision log: flush timed out; records stay buffered');
    }
    this.#urgent = false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#wake?.abort();
    // A send still in flight (Kafka slow or down) gets a last moment to finish.
    const draining = this.#draining;
    if (draining) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([draining, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
    }
    this.#finalized = true;
    const left = [...this.#inFlight, ...this.#buffer.slice(this.#head)];
    for (const r of left) this.#metrics.records.inc({ kind: r.kind, result: 'dropped' });
    this.#metrics.buffered.dec(left.length);
    this.#buffer = [];
    this.#head = 0;
    this.#inFlight = [];
    if (left.length > 0) this.#logger.warn({ topic: this.#topic, dropped: left.length }, 'decision log: closed with records not produced');
    await this.#producer?.close();
  }
}
