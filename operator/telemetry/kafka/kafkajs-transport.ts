// The KafkaTransport on kafkajs: the only module that imports kafkajs (unmaintained upstream;
// replace it by implementing transport.ts with a maintained client). kafkajs logs go to the
// injected pino logger, never to the console.
import type { Logger } from 'pino';
import {
  Kafka,
  Partitioners,
  logLevel as LogLevel,
  type Admin,
  type Consumer as KafkajsConsumer,
  type LogEntry,
  type Producer as KafkajsProducer,
} from 'kafkajs';
import type {
  Consumer,
  ConsumerHandlers,
  ConsumerOptions,
  KafkaTransport,
  KafkaTransportFactory,
  MessageBatch,
  OutgoingMessage,
  Producer,
  ProducerOptions,
  TopicPartition,
  TopicPartitionOffset,
} from './transport.ts';
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';

export interface KafkajsTransportOptions {
  logger: Logger;
  /** Consumer group session timeout (kafkajs default 30 s); a member silent this long is removed. */
  sessionTimeoutMs?: number;
  /** Heartbeat interval (kafkajs default 3 s); must be below the session timeout. */
  heartbeatIntervalMs?: number;
  /** Bytes fetched per partition per request (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Bytes fetched per request across partitions (default 10 MiB). */
  maxBytes?: number;
  /** How long a fetch waits for data at the broker (default 500 ms; kafkajs's own is 5 s). */
  maxWaitTimeMs?: number;
  /** Wait before a batch whose handler failed is delivered again (default 1 s). */
  redeliveryBackoffMs?: number;
  /** TCP connect timeout (kafkajs default 1 s). */
  connectionTimeoutMs?: number;
  /** Retries of one request before kafkajs gives up (kafkajs default 5). */
  retries?: number;
}

const KAFKAJS_TO_PINO = {
  [LogLevel.ERROR]: 'error',
  [LogLevel.WARN]: 'warn',
  // kafkajs logs every join and start at INFO: detail for an operator, not news.
  [LogLevel.INFO]: 'debug',
  [LogLevel.DEBUG]: 'trace',
  [LogLevel.NOTHING]: 'trace',
} as const;

/** kafkajs builds its log level from ours: its DEBUG is one line per request, so only at trace. */
function kafkajsLevel(logger: Logger): LogLevel {
  if (logger.isLevelEnabled('trace')) return LogLevel.DEBUG;
  if (logger.isLevelEnabled('debug')) return LogLevel.INFO;
  return LogLevel.WARN;
}

function rootCause(e: unknown): Error {
  let error = e instanceof Error ? e : new Error(String(e));
  while (error.cause instanceof Error) error = error.cause;
  return error;
}

/** A kafkajs failure in words for `problem()`: connection failures say so. */
function describeKafkaError(e: unknown): string {
  const root = rootCause(e);
  const connection =
    root.name === 'KafkaJSConnectionError' ||
    root.name === 'KafkaJSConnectionClosedError' ||
    root.name === 'KafkaJSBrokerNotFound' ||
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|Connection timeout/i.test(root.message);
  return `${connection ? 'broker connection failed' : 'client error'}: ${root.message}`;
}

class KafkajsConsumerAdapter implements Consumer {
  readonly #consumer: KafkajsConsumer;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  readonly #backoffMs: number;
  #assigned: TopicPartition[] = [];
  #assigning: Promise<void> = Promise.resolve();
  #stopping = new AbortController();
  #stopped: Promise<void> | undefined;

  constructor(consumer: KafkajsConsumer, options: ConsumerOptions, logger: Logger, backoffMs: number) {
    this.#consumer = consumer;
    this.#options = options;
    this.#logger = logger;
    this.#backoffMs = backoffMs;
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const c = this.#consumer;
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      const next: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) next.push({ topic, partition });
      }
      this.#revoke(handlers, (tp) => !next.some((n) => n.topic === tp.topic && n.partition === tp.partition));
      this.#assigned = next;
      handlers.onStatus(undefined, false);
      // Held by every batch until settled: a seek made by onAssigned decides where reading starts.
      this.#assigning = handlers.onAssigned(next).catch((e: unknown) => {
        this.#logger.warn({ err: e }, 'kafka: partition assignment handler failed');
      });
    });
    c.on(c.events.REBALANCING, () => this.#revoke(handlers, () => true));
    c.on(c.events.FETCH, () => handlers.onStatus(undefined, false));
    c.on(c.events.REQUEST_TIMEOUT, ({ payload }) => handlers.onStatus(`request ${payload.apiName} to ${payload.broker} timed out`, false));
    c.on(c.events.CRASH, ({ payload }) => {
      this.#revoke(handlers, () => true);
      const problem = describeKafkaError(payload.error);
      if (this.#stopping.signal.aborted) return;
      handlers.onStatus(payload.restart ? `${problem} (consumer restarting)` : problem, !payload.restart);
    });

    try {
      await c.connect();
      this.#throwIfStopped();
      await c.subscribe({ topics: [...this.#options.topics], fromBeginning: this.#options.fromBeginning });
      this.#throwIfStopped();
      await this.#run(handlers);
      this.#throwIfStopped();
    } catch (e) {
      // A stop that raced the start must not leave a running consumer behind.
      if (this.#stopping.signal.aborted) await c.disconnect().catch(() => undefined);
      throw new MeshpilotError(ERROR_CODES.TELEMETRY_UNAVAILABLE, describeKafkaError(e), { retriable: true, cause: e });
    }
  }

  #throwIfStopped(): void {
    if (this.#stopping.signal.aborted) throw new MeshpilotError(ERROR_CODES.TELEMETRY_UNAVAILABLE, 'consumer stopped while starting');
  }

  #run(handlers: ConsumerHandlers): Promise<void> {
    const c = this.#consumer;
    return c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        await this.#assigning;
        if (!isRunning() || isStale()) return;
        const view: MessageBatch = {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          lastOffset: batch.lastOffset(),
          highWatermark: batch.highWatermark,
        };
        try {
          await handlers.onBatch(view);
        } catch (e) {
          // Not resolving the offset makes kafkajs fetch the same messages again; the pause
          // keeps a failing handler from spinning.
          this.#logger.warn({ err: e, topic: batch.topic, partition: batch.partition, offset: batch.firstOffset() }, 'kafka: batch handler failed; the batch will be delivered again');
          await sleep(this.#backoffMs, this.#stopping.signal);
          return;
        }
        resolveOffset(view.lastOffset);
        await heartbeat();
      },
    });
  }

  #revoke(handlers: ConsumerHandlers, which: (tp: TopicPartition) => boolean): void {
    const revoked = this.#assigned.filter(which);
    if (revoked.length === 0) return;
    this.#assigned = this.#assigned.filter((tp) => !revoked.includes(tp));
    handlers.onRevoked(revoked);
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.#consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
  }

  seek(target: TopicPartitionOffset): void {
    this.#consumer.seek(target);
  }

  stop(): Promise<void> {
    this.#stopping.abort();
    this.#stopped ??= this.#consumer.disconnect().catch((e: unknown) => {
      this.#logger.debug({ err: e }, 'kafka: consumer disconnect failed');
    });
    return this.#stopped;
  }
}

class KafkajsProducerAdapter implements Producer {
  readonly #producer: KafkajsProducer;
  readonly #acks: number;
  #connected: Promise<void> | undefined;
  #closed = false;

  constructor(producer: KafkajsProducer, options: ProducerOptions) {
    this.#producer = producer;
    this.#acks = options.acksAll ? -1 : 1;
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#closed) throw new MeshpilotError(ERROR_CODES.INTERNAL, 'kafka producer is closed');
    // Connect on first use and again after a failed connect (kafkajs does not retry that by itself).
    this.#connected ??= this.#producer.connect().catch((e: unknown) => {
      this.#connected = undefined;
      throw e;
    });
    await this.#connected;
    await this.#producer.send({ topic, acks: this.#acks, messages: messages as OutgoingMessage[] });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#connected) await this.#producer.disconnect().catch(() => undefined);
  }
}

class KafkajsTransport implements KafkaTransport {
  readonly brokers: readonly string[];
  readonly #kafka: Kafka;
  readonly #options: KafkajsTransportOptions;
  readonly #logger: Logger;
  #admin: Promise<Admin> | undefined;
  /** Whether the cluster answers ListOffsets by timestamp; probed once. */
  #byTimestamp: boolean | undefined;

  constructor(brokers: readonly string[], clientId: string, options: KafkajsTransportOptions) {
    this.brokers = brokers;
    this.#options = options;
    this.#logger = options.logger.child({ component: 'kafkajs', brokers: brokers.join(',') });
    const logger = this.#logger;
    this.#kafka = new Kafka({
      clientId,
      brokers: [...brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 1000,
      retry: { retries: options.retries ?? 5 },
      logLevel: kafkajsLevel(logger),
      logCreator:
        () =>
        ({ namespace, level, log }: LogEntry) => {
          const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
          logger[KAFKAJS_TO_PINO[level]]({ namespace, ...extra }, `kafkajs: ${message}`);
        },
    });
  }

  consumer(options: ConsumerOptions): Consumer {
    const o = this.#options;
    const consumer = this.#kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 1024 * 1024,
      maxBytes: o.maxBytes ?? 10 * 1024 * 1024,
      maxWaitTimeInMs: o.maxWaitTimeMs ?? 500,
      allowAutoTopicCreation: true,
    });
    return new KafkajsConsumerAdapter(consumer, options, this.#logger, o.redeliveryBackoffMs ?? 1000);
  }

  producer(options: ProducerOptions): Producer {
    const producer = this.#kafka.producer({
      allowAutoTopicCreation: true,
      // One request in flight per broker keeps a key's messages in order across retries
      // (idempotence would allow more, but librdkafka's mock cannot serve kafkajs's InitProducerId).
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    return new KafkajsProducerAdapter(producer, options);
  }

  async offsetsForTimestamp(topic: string, timestampMs: number): Promise<Map<number, string> | undefined> {
    const admin = await this.#connectedAdmin();
    if (this.#byTimestamp === false) return undefined;
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    if (this.#byTimestamp === undefined) {
      // kafkajs turns the broker's "no such offset" (-1) into the high watermark, so a broker
      // that cannot look up by timestamp looks like one with nothing newer. Probe: timestamp 0
      // must give the first retained offset of a non-empty partition.
      const bounds = await admin.fetchTopicOffsets(topic);
      const nonEmpty = bounds.find((b) => b.low !== b.high);
      if (!nonEmpty) return new Map(byTime.map((p) => [p.partition, p.offset]));
      const probe = await admin.fetchTopicOffsetsByTimestamp(topic, 0);
      this.#byTimestamp = probe.find((p) => p.partition === nonEmpty.partition)?.offset === nonEmpty.low;
      if (!this.#byTimestamp) return undefined;
    }
    return new Map(byTime.map((p) => [p.partition, p.offset]));
  }

  #connectedAdmin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })().catch((e: unknown) => {
      this.#admin = undefined;
      throw e;
    });
    return this.#admin;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The transport factory on kafkajs. */
export function kafkajsTransport(options: KafkajsTransportOptions): KafkaTransportFactory {
  return ({ brokers, clientId }) => new KafkajsTransport(brokers, clientId, options);
}
