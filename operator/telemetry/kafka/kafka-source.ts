// The Kafka telemetry source: routes whose spec.telemetry.kafka names a topic are read
// through one consumer-group member per broker list (the route's brokers, or the operator's
// default), subscribed to the union of those routes' topics. Events follow the
// `meshpilot.telemetry/v1` schema (EVENTS.md); what they say goes into the sink (the window
// store); what cannot be read is counted, logged and dead-lettered (cluster-consumer.ts).
// The Kafka client stays behind transport.ts.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../base/clock.ts';
import type { TelemetryMetrics } from '../metrics.ts';
import type { RouteTarget, TelemetrySink, TelemetrySource } from '../types.ts';
import { ClusterConsumer } from './cluster-consumer.ts';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES } from './events.ts';
import type { KafkaTransportFactory } from './transport.ts';

export const DEFAULT_GROUP_ID = 'meshpilot-telemetry';

export interface KafkaSourceOptions {
  sink: TelemetrySink;
  clock?: Clock;
  logger: Logger;
  metrics: TelemetryMetrics;
  /** Builds the client for one broker list (kafkajsTransport(...) in production). */
  transport: KafkaTransportFactory;
  /** Brokers for routes that name none (the operator's configured brokers). */
  defaultBrokers?: readonly string[];
  /** Consumer group of every telemetry consumer (default "meshpilot-telemetry"). */
  groupId?: string;
  /** Kafka client id (default "meshpilot"). */
  clientId?: string;
  /** Where a rejected message of `topic` is copied (default `${topic}.deadletter`). */
  deadLetterTopic?: (topic: string) => string;
  /** Larger messages are rejected as too_large (default 64 KiB). */
  maxMessageBytes?: number;
  /** Timestamps further ahead are rejected as future_timestamp (default 30 s). */
  maxClockSkewMs?: number;
  /** The window store's window: how far back a consumer rewinds on assignment (default 60 s). */
  windowMs?: number;
  /** Quiet time after a topic-set change before a consumer restarts (default 500 ms). */
  restartDebounceMs?: number;
  /** Wait before a consumer that could not start, or gave up, is started again (default 5 s). */
  retryBackoffMs?: number;
  /** Offsets are committed at most this often (default 1 s; 0: after every batch). */
  commitIntervalMs?: number;
}

interface Followed {
  /** Key of the broker list, or undefined when the route names no brokers and there is no default. */
  cluster: string | undefined;
  topic: string;
}

export class KafkaSource implements TelemetrySource {
  readonly kind = 'kafka' as const;
  readonly #options: KafkaSourceOptions;
  readonly #clock: Clock;
  readonly #clusters = new Map<string, { brokers: readonly string[]; consumer: ClusterConsumer }>();
  readonly #routes = new Map<string, Followed>();
  readonly #closing = new Set<Promise<void>>();
  #closed = false;

  constructor(options: KafkaSourceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  watch(target: RouteTarget): void {
    const spec = target.telemetry.kafka;
    if (!spec || this.#closed) {
      this.unwatch(target.key);
      return;
    }
    const brokers = spec.brokers && spec.brokers.length > 0 ? spec.brokers : this.#options.defaultBrokers;
    const cluster = brokers && brokers.length > 0 ? [...brokers].sort().join(',') : undefined;
    const before = this.#routes.get(target.key);
    if (before?.cluster !== undefined && before.cluster !== cluster) this.#leave(before.cluster, target.key);
    this.#routes.set(target.key, { cluster, topic: spec.topic });
    if (cluster === undefined || !brokers) return;
    let entry = this.#clusters.get(cluster);
    if (!entry) {
      entry = { brokers, consumer: this.#consumerFor(brokers) };
      this.#clusters.set(cluster, entry);
    }
    entry.consumer.setRoute(target.key, spec.topic);
  }

  unwatch(key: string): void {
    const followed = this.#routes.get(key);
    if (!followed) return;
    this.#routes.delete(key);
    if (followed.cluster !== undefined) this.#leave(followed.cluster, key);
  }

  problem(key: string): string | undefined {
    const followed = this.#routes.get(key);
    if (!followed) return undefined;
    if (followed.cluster === undefined) {
      return 'kafka: no brokers configured (set spec.telemetry.kafka.brokers or the operator\'s default Kafka brokers)';
    }
    const entry = this.#clusters.get(followed.cluster);
    const problem = entry?.consumer.problem();
    return problem === undefined ? undefined : `kafka ${followed.cluster}: ${problem}`;
  }

  /** Stops every consumer after committing what the sink holds. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [key, { consumer }] of this.#clusters) {
      this.#clusters.delete(key);
      this.#track(consumer.close());
    }
    this.#routes.clear();
    await Promise.all(this.#closing);
  }

  #leave(cluster: string, route: string): void {
    const entry = this.#clusters.get(cluster);
    if (!entry) return;
    entry.consumer.removeRoute(route);
    if (entry.consumer.routeCount > 0) return;
    this.#clusters.delete(cluster);
    this.#track(entry.consumer.close());
  }

  #track(closing: Promise<void>): void {
    const tracked = closing.catch((e: unknown) => {
      this.#options.logger.warn({ err: e }, 'kafka: closing a consumer failed');
    });
    this.#closing.add(tracked);
    void tracked.then(() => this.#closing.delete(tracked));
  }

  #consumerFor(brokers: readonly string[]): ClusterConsumer {
    const o = this.#options;
    return new ClusterConsumer({
      transport: o.transport({ brokers, clientId: o.clientId ?? 'meshpilot' }),
      sink: o.sink,
      clock: this.#clock,
      logger: o.logger,
      metrics: o.metrics,
      groupId: o.groupId ?? DEFAULT_GROUP_ID,
      deadLetterTopic: o.deadLetterTopic ?? ((topic) => `${topic}.deadletter`),
      maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxClockSkewMs: o.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
      windowMs: o.windowMs ?? 60_000,
      restartDebounceMs: o.restartDebounceMs ?? 500,
      retryBackoffMs: o.retryBackoffMs ?? 5_000,
      commitIntervalMs: o.commitIntervalMs ?? 1_000,
    });
  }
}
