// An in-memory KafkaTransport for unit tests of the Kafka source: partitions are arrays, the
// test decides when the group assigns and when a batch is delivered, and can make commits,
// produces or timestamp lookups fail. It implements the same contract as kafkajs-transport.ts
// (assignment before batches, a rejected batch is not consumed, seek moves the position).
import type {
  ConsumedMessage,
  Consumer,
  ConsumerHandlers,
  ConsumerOptions,
  KafkaTransport,
  OutgoingMessage,
  Producer,
  TopicPartition,
  TopicPartitionOffset,
} from '../../../operator/telemetry/kafka/transport.ts';

export interface StoredMessage {
  value: string | null;
  key?: string;
  timestampMs: number;
  headers?: Record<string, string>;
}

export class FakeCluster {
  readonly partitions = new Map<string, StoredMessage[][]>();
  /** groupId → "topic/partition" → committed offset. */
  readonly committed = new Map<string, Map<string, string>>();
  readonly produced: { topic: string; message: OutgoingMessage }[] = [];
  readonly transports: FakeTransport[] = [];
  failProduce = false;
  failCommits = 0;
  /** Whether offsetsForTimestamp is offered at all, and whether it answers. */
  timestampLookup: 'none' | 'supported' | 'unsupported' = 'supported';

  append(topic: string, partition: number, ...messages: StoredMessage[]): void {
    let parts = this.partitions.get(topic);
    if (!parts) this.partitions.set(topic, (parts = []));
    while (parts.length <= partition) parts.push([]);
    parts[partition]!.push(...messages);
  }

  log(topic: string, partition: number): StoredMessage[] {
    return this.partitions.get(topic)?.[partition] ?? [];
  }

  committedOffset(groupId: string, topic: string, partition: number): string | undefined {
    return this.committed.get(groupId)?.get(key(topic, partition));
  }

  transport = (options: { brokers: readonly string[]; clientId: string }): KafkaTransport => {
    const transport = new FakeTransport(this, options.brokers);
    this.transports.push(transport);
    return transport;
  };

  consumers(): FakeConsumer[] {
    return this.transports.flatMap((t) => t.consumers);
  }
}

export class FakeTransport implements KafkaTransport {
  readonly brokers: readonly string[];
  readonly consumers: FakeConsumer[] = [];
  closed = false;
  readonly #cluster: FakeCluster;
  offsetsForTimestamp?: (topic: string, timestampMs: number) => Promise<Map<number, string> | undefined>;

  constructor(cluster: FakeCluster, brokers: readonly string[]) {
    this.#cluster = cluster;
    this.brokers = brokers;
    if (cluster.timestampLookup !== 'none') {
      this.offsetsForTimestamp = async (topic, timestampMs) => {
        if (cluster.timestampLookup === 'unsupported') return undefined;
        const parts = cluster.partitions.get(topic) ?? [];
        return new Map(
          parts.map((log, partition) => {
            const i = log.findIndex((m) => m.timestampMs >= timestampMs);
            return [partition, String(i < 0 ? log.length : i)];
          }),
        );
      };
    }
  }

  consumer(options: ConsumerOptions): Consumer {
    const consumer = new FakeConsumer(this.#cluster, options);
    this.consumers.push(consumer);
    return consumer;
  }

  producer(): Producer {
    const cluster = this.#cluster;
    return {
      async send(topic: string, messages: readonly OutgoingMessage[]) {
        if (cluster.failProduce) throw new Error('broker connection failed: connect ECONNREFUSED (fake)');
        for (const message of messages) cluster.produced.push({ topic, message });
      },
      async close() {},
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class FakeConsumer implements Consumer {
  readonly options: ConsumerOptions;
  handlers: ConsumerHandlers | undefined;
  stopped = false;
  readonly commits: TopicPartitionOffset[][] = [];
  readonly #cluster: FakeCluster;
  /** Next offset to deliver, per "topic/partition". */
  readonly #position = new Map<string, number>();

  constructor(cluster: FakeCluster, options: ConsumerOptions) {
    this.#cluster = cluster;
    this.options = options;
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
  }

  /** The group assigns `partitions`: reading starts at the committed offset (or 0), unless onAssigned seeks. */
  async assign(partitions: TopicPartition[]): Promise<void> {
    for (const { topic, partition } of partitions) {
      const committed = this.#cluster.committed.get(this.options.groupId)?.get(key(topic, partition));
      this.#position.set(key(topic, partition), committed === undefined ? 0 : Number(committed));
    }
    await this.handlers!.onAssigned(partitions);
  }

  revoke(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.#position.delete(key(topic, partition));
    this.handlers!.onRevoked(partitions);
  }

  position(topic: string, partition: number): number | undefined {
    return this.#position.get(key(topic, partition));
  }

  /**
   * Delivers the messages from the position (or `from`) to the end of the log as one batch.
   * Resolves true when the handler took it (the position moves past it), false when it refused.
   */
  async deliver(topic: string, partition: number, from?: number): Promise<boolean> {
    const start = from ?? this.#position.get(key(topic, partition));
    if (start === undefined) throw new Error(`${topic}/${partition} is not assigned`);
    const log = this.#cluster.log(topic, partition);
    if (start >= log.length) return true;
    const messages: ConsumedMessage[] = log.slice(start).map((m, i) => ({
      key: m.key === undefined ? null : Buffer.from(m.key),
      value: m.value === null ? null : Buffer.from(m.value),
      offset: String(start + i),
      timestamp: String(m.timestampMs),
      headers: m.headers,
    }));
    try {
      await this.handlers!.onBatch({ topic, partition, messages, lastOffset: String(log.length - 1), highWatermark: String(log.length) });
    } catch {
      return false;
    }
    this.#position.set(key(topic, partition), log.length);
    return true;
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.#cluster.failCommits > 0) {
      this.#cluster.failCommits--;
      throw new Error('REBALANCE_IN_PROGRESS (fake)');
    }
    this.commits.push([...offsets]);
    let group = this.#cluster.committed.get(this.options.groupId);
    if (!group) this.#cluster.committed.set(this.options.groupId, (group = new Map()));
    for (const o of offsets) group.set(key(o.topic, o.partition), o.offset);
  }

  seek(target: TopicPartitionOffset): void {
    this.#position.set(key(target.topic, target.partition), Number(target.offset));
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}

function key(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
