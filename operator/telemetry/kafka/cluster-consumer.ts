// One consumer-group member on one Kafka cluster, reading the union of the topics its routes
// name. It owns the delivery guarantees of the Kafka source:
// - offsets are committed only for batches whose data the sink (the window store) already
//   holds; a batch the sink throws on is not committed and is delivered again;
// - a message that does not parse or fails the schema is counted, logged, copied to the
//   dead-letter topic and skipped: it never stops the consumer;
// - on assignment it rewinds to (now - window) where the cluster can look offsets up by
//   timestamp, so in-memory windows refill after a restart, and it skips offsets this
//   process already applied, so a rebalance that keeps a partition does not count twice.
import type { Logger } from 'pino';
import type { Clock } from '../../base/clock.ts';
import { REJECT_REASONS, type TelemetryMetrics } from '../metrics.ts';
import type { RequestObservation, TelemetrySink } from '../types.ts';
import { DeadLetterWriter } from './dead-letters.ts';
import { parseEvent, type ParseOptions, type Rejection } from './events.ts';
import { RateLimitedLog } from '../log-limiter.ts';
import type { ConsumedMessage, Consumer, ConsumerHandlers, KafkaTransport, MessageBatch, TopicPartition, TopicPartitionOffset } from './transport.ts';
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';

export interface ClusterConsumerOptions {
  transport: KafkaTransport;
  sink: TelemetrySink;
  clock: Clock;
  logger: Logger;
  metrics: TelemetryMetrics;
  groupId: string;
  deadLetterTopic: (topic: string) => string;
  maxMessageBytes: number;
  maxClockSkewMs: number;
  windowMs: number;
  /** Quiet time after the last topic change before the consumer restarts with the new topic set. */
  restartDebounceMs: number;
  /** Wait before starting again after the consumer could not start or gave up. */
  retryBackoffMs: number;
  /** Commits at most this often (0: after every batch); commits are also made on revocation and stop. */
  commitIntervalMs: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ClusterConsumer {
  readonly #o: ClusterConsumerOptions;
  readonly #log: RateLimitedLog;
  readonly #deadLetters: DeadLetterWriter;
  /** route key → topic. */
  readonly #routes = new Map<string, string>();
  /** topic → the routes read from it. */
  #topicRoutes = new Map<string, Set<string>>();
  #wantedTopics = '';
  /** Topics of the consumer now running. */
  #runningTopics = '';
  #consumer: Consumer | undefined;
  /** The consumer whose start (connect, join) is in progress. */
  #starting: Consumer | undefined;
  #generation = 0;
  #problem: string | undefined;
  #joined = false;
  /** Per partition, the offset after the last message this process handed to the sink. */
  readonly #applied = new Map<string, number>();
  readonly #assigned = new Set<string>();
  readonly #pending = new Map<string, TopicPartitionOffset>();
  #lastCommitMs = -Infinity;
  #commitTimer: AbortController | undefined;
  #committing: Promise<void> = Promise.resolve();
  #restartTimer: AbortController | undefined;
  #lifecycle: Promise<void> = Promise.resolve();
  #closed = false;
  /** Until the cluster says it cannot look offsets up by timestamp. */
  #byTimestamp = true;

  constructor(options: ClusterConsumerOptions) {
    this.#o = options;
    this.#log = new RateLimitedLog(options.logger, options.clock);
    this.#deadLetters = new DeadLetterWriter({
      producer: () => options.transport.producer({ acksAll: true }),
      metrics: options.metrics,
      logger: options.logger,
      clock: options.clock,
    });
  }

  get routeCount(): number {
    return this.#routes.size;
  }

  /** Reads `route`'s events from `topic`; a new topic restarts the consumer (debounced). */
  setRoute(route: string, topic: string): void {
    if (this.#routes.get(route) === topic) return;
    this.#routes.set(route, topic);
    this.#reindex();
  }

  removeRoute(route: string): void {
    if (this.#routes.delete(route)) this.#reindex();
  }

  /** Why nothing is delivered right now, or undefined while consuming. */
  problem(): string | undefined {
    if (this.#problem !== undefined) return this.#problem;
    if (!this.#joined) return `joining consumer group ${this.#o.groupId}`;
    return undefined;
  }

  #reindex(): void {
    const topicRoutes = new Map<string, Set<string>>();
    for (const [route, topic] of this.#routes) {
      let routes = topicRoutes.get(topic);
      if (!routes) topicRoutes.set(topic, (routes = new Set()));
      routes.add(route);
    }
    this.#topicRoutes = topicRoutes;
    const wanted = [...topicRoutes.keys()].sort().join(',');
    if (wanted !== this.#wantedTopics) {
      this.#wantedTopics = wanted;
      this.#scheduleRestart(this.#o.restartDebounceMs);
    }
  }

  #scheduleRestart(delayMs: number): void {
    if (this.#closed) return;
    this.#restartTimer?.abort();
    const timer = new AbortController();
    this.#restartTimer = timer;
    this.#o.clock.sleep(delayMs, timer.signal).then(
      () => {
        if (this.#restartTimer === timer) this.#restartTimer = undefined;
        this.#lifecycle = this.#lifecycle.then(() => this.#restart());
      },
      () => undefined,
    );
  }

  async #restart(): Promise<void> {
    const topics = [...this.#topicRoutes.keys()].sort();
    // Changes that cancelled out within the quiet time leave a running consumer alone.
    if (this.#consumer && this.#runningTopics === topics.join(',')) return;
    await this.#stopConsumer();
    if (this.#closed || topics.length === 0) return;
    this.#runningTopics = topics.join(',');
    const generation = ++this.#generation;
    const consumer = this.#o.transport.consumer({ groupId: this.#o.groupId, topics, fromBeginning: true });
    this.#consumer = consumer;
    this.#joined = false;
    this.#problem = undefined;
    this.#starting = consumer;
    try {
      await consumer.start(this.#handlers(consumer, generation));
      this.#starting = undefined;
      this.#o.logger.info({ groupId: this.#o.groupId, topics, brokers: this.#o.transport.brokers }, 'kafka: telemetry consumer started');
    } catch (e) {
      this.#starting = undefined;
      if (generation !== this.#generation) return;
      this.#problem = e instanceof Error ? e.message : String(e);
      this.#o.logger.warn({ groupId: this.#o.groupId, topics, brokers: this.#o.transport.brokers, problem: this.#problem }, 'kafka: telemetry consumer could not start; retrying');
      this.#consumer = undefined;
      await consumer.stop();
      this.#scheduleRestart(this.#o.retryBackoffMs);
    }
  }

  #handlers(consumer: Consumer, generation: number): ConsumerHandlers {
    const current = () => generation === this.#generation && !this.#closed;
    return {
      onBatch: async (batch) => {
        // A batch of a replaced consumer is refused, so it is not taken as handled.
        if (!current()) throw new MeshpilotError(ERROR_CODES.INTERNAL, 'kafka: batch of a stopped consumer');
        this.#apply(batch);
        await this.#maybeCommit();
      },
      onAssigned: async (partitions) => {
        if (current()) await this.#assign(consumer, partitions);
      },
      onRevoked: (partitions) => {
        if (current()) this.#revoke(consumer, partitions);
      },
      onStatus: (problem, stopped) => {
        if (!current()) return;
        this.#problem = problem;
        if (problem !== undefined) this.#log.warn(`status:${problem}`, { groupId: this.#o.groupId, brokers: this.#o.transport.brokers, problem }, 'kafka: telemetry consumer problem');
        if (stopped) {
          this.#consumer = undefined;
          this.#generation++;
          void consumer.stop();
          this.#scheduleRestart(this.#o.retryBackoffMs);
        }
      },
    };
  }

  /** Hands one batch to the sink. Throws (and records nothing as applied) when the sink throws. */
  #apply(batch: MessageBatch): void {
    const { topic, partition, messages } = batch;
    if (messages.length === 0) return;
    const key = tpKey(topic, partition);
    let skipBelow = this.#applied.get(key) ?? -1;
    if (skipBelow >= 0 && Number(messages[0]!.offset) >= skipBelow) skipBelow = -1;
    const routes = this.#topicRoutes.get(topic);
    const sink = this.#o.sink;
    const options: ParseOptions = { nowMs: this.#o.clock.now(), maxMessageBytes: this.#o.maxMessageBytes, maxClockSkewMs: this.#o.maxClockSkewMs };
    const requests: RequestObservation[] = [];
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (skipBelow >= 0 && Number(message.offset) < skipBelow) continue;
      const result = parseEvent(message.value, options);
      if (!result.ok) {
        this.#reject(batch, message, result.rejection);
        continue;
      }
      const event = result.value;
      switch (event.type) {
        case 'request':
          if (!routes?.has(event.request.route)) {
            this.#notFollowed(topic, event.request.route);
          } else {
            requests.push(event.request);
          }
          break;
        case 'window':
          if (!routes?.has(event.sample.route)) {
            this.#notFollowed(topic, event.sample.route);
          } else {
            sink.recordSample(event.sample);
          }
          break;
        case 'health':
          if (event.health.route !== undefined && !routes?.has(event.health.route)) {
            this.#notFollowed(topic, event.health.route);
          } else {
            sink.recordHealth(event.health);
          }
          break;
      }
    }
    // Samples and health above are already in; if this throws the batch is delivered again
    // and they are written twice, which for latest-value signals changes nothing.
    if (requests.length > 0) sink.recordRequests('kafka', requests);
    const next = BigInt(batch.lastOffset) + 1n;
    this.#applied.set(key, Number(next));
    this.#pending.set(key, { topic, partition, offset: next.toString() });
  }

  #reject(batch: MessageBatch, message: ConsumedMessage, rejection: Rejection): void {
    this.#o.metrics.rejected.inc({ source: 'kafka', reason: rejection.reason });
    const deadLetterTopic = this.#o.deadLetterTopic(batch.topic);
    this.#log.warn(
      `reject:${rejection.reason}`,
      { reason: rejection.reason, field: rejection.field, topic: batch.topic, partition: batch.partition, offset: message.offset, deadLetterTopic },
      `kafka: telemetry event rejected (${rejection.reason}): ${rejection.message}`,
    );
    this.#deadLetters.write(deadLetterTopic, batch, message, rejection);
  }

  #notFollowed(topic: string, route: string): void {
    this.#o.metrics.rejected.inc({ source: 'kafka', reason: REJECT_REASONS.unknownRoute });
    this.#log.warn(`route:${topic}`, { reason: REJECT_REASONS.unknownRoute, topic, route }, `kafka: event for route ${route}, which does not read topic ${topic}, skipped`);
  }

  async #maybeCommit(): Promise<void> {
    if (this.#pending.size === 0) return;
    const sinceLast = this.#o.clock.now() - this.#lastCommitMs;
    if (sinceLast >= this.#o.commitIntervalMs) return this.#commit();
    if (this.#commitTimer) return;
    const timer = new AbortController();
    this.#commitTimer = timer;
    this.#o.clock.sleep(this.#o.commitIntervalMs - sinceLast, timer.signal).then(
      () => {
        this.#commitTimer = undefined;
        void this.#commit();
      },
      () => undefined,
    );
  }

  /** Commits what the sink holds for the partitions this member owns. Serialised; never throws. */
  #commit(): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      const consumer = this.#consumer;
      if (!consumer || this.#pending.size === 0) return;
      const offsets = [...this.#pending].filter(([key]) => this.#assigned.has(key));
      this.#pending.clear();
      this.#lastCommitMs = this.#o.clock.now();
      if (offsets.length === 0) return;
      try {
        await consumer.commit(offsets.map(([, o]) => o));
        this.#o.metrics.commits.inc({ result: 'ok' });
      } catch (e) {
        this.#o.metrics.commits.inc({ result: 'error' });
        this.#log.warn('commit', { groupId: this.#o.groupId, err: e }, 'kafka: offset commit failed; retrying with the next one');
        // Keep them for the next commit unless a newer offset or a revocation came meanwhile.
        for (const [key, o] of offsets) if (!this.#pending.has(key) && this.#assigned.has(key)) this.#pending.set(key, o);
      }
    });
    return this.#committing;
  }

  async #assign(consumer: Consumer, partitions: TopicPartition[]): Promise<void> {
    this.#joined = true;
    this.#problem = undefined;
    this.#o.metrics.rebalances.inc({ event: 'assigned' });
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      this.#assigned.add(tpKey(topic, partition));
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(partition);
    }
    this.#o.logger.info(
      { groupId: this.#o.groupId, brokers: this.#o.transport.brokers, assignment: Object.fromEntries(byTopic) },
      'kafka: partitions assigned',
    );
    for (const [topic, list] of byTopic) {
      const fromTime = await this.#offsetsSinceWindowStart(topic);
      for (const partition of list) {
        const applied = this.#applied.get(tpKey(topic, partition));
        const byTime = fromTime?.get(partition);
        let target = byTime === undefined ? undefined : BigInt(byTime);
        if (applied !== undefined && (target === undefined || BigInt(applied) > target)) target = BigInt(applied);
        if (target !== undefined) consumer.seek({ topic, partition, offset: target.toString() });
      }
    }
  }

  /**
   * Offsets of the first messages of the current window, to refill windows the last process
   * held in memory. librdkafka's mock cluster answers ListOffsets by timestamp with "no
   * offset" (its handler has a FIXME there), which the transport reports as undefined: then
   * reading resumes from the committed offsets, and windows refill only with new events.
   */
  async #offsetsSinceWindowStart(topic: string): Promise<Map<number, string> | undefined> {
    const lookup = this.#o.transport.offsetsForTimestamp;
    if (!this.#byTimestamp || !lookup) return undefined;
    try {
      const offsets = await lookup.call(this.#o.transport, topic, this.#o.clock.now() - this.#o.windowMs);
      if (offsets === undefined) {
        this.#byTimestamp = false;
        this.#o.logger.info({ brokers: this.#o.transport.brokers }, 'kafka: the cluster cannot look offsets up by timestamp; windows refill from committed offsets only');
      }
      return offsets;
    } catch (e) {
      this.#log.warn('offsets-by-time', { topic, err: e }, 'kafka: offset lookup by timestamp failed; resuming from committed offsets');
      return undefined;
    }
  }

  #revoke(consumer: Consumer, partitions: TopicPartition[]): void {
    this.#o.metrics.rebalances.inc({ event: 'revoked' });
    const offsets: TopicPartitionOffset[] = [];
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      this.#assigned.delete(key);
      const pending = this.#pending.get(key);
      if (pending) offsets.push(pending);
      this.#pending.delete(key);
    }
    this.#o.logger.info({ groupId: this.#o.groupId, partitions: partitions.length }, 'kafka: partitions revoked');
    // Best effort: the group may already refuse commits of this generation.
    if (offsets.length > 0) {
      consumer.commit(offsets).then(
        () => this.#o.metrics.commits.inc({ result: 'ok' }),
        (e: unknown) => {
          this.#o.metrics.commits.inc({ result: 'error' });
          this.#log.warn('commit', { groupId: this.#o.groupId, err: e }, 'kafka: offset commit on revocation failed');
        },
      );
    }
  }

  async #stopConsumer(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) return;
    this.#commitTimer?.abort();
    this.#commitTimer = undefined;
    await this.#commit();
    this.#consumer = undefined;
    this.#generation++;
    await consumer.stop();
    this.#assigned.clear();
    this.#pending.clear();
    this.#joined = false;
  }

  /** Commits what is held, leaves the group and closes the cluster's connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.#lifecycle;
    this.#closed = true;
    this.#restartTimer?.abort();
    this.#lifecycle = this.#lifecycle.then(() => this.#stopConsumer());
    // A start still connecting to unreachable brokers would hold the chain for its retries.
    void this.#starting?.stop();
    await this.#lifecycle;
    await this.#deadLetters.close();
    await this.#o.transport.close();
  }
}
