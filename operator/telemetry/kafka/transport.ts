// What meshpilot needs from a Kafka client, and nothing more. The telemetry source and the
// decision log are written against this interface only; kafkajs-transport.ts is today's
// implementation. kafkajs is no longer maintained upstream, so a maintained client
// (@confluentinc/kafka-javascript, node-rdkafka, ...) must be able to take its place by
// implementing these few calls. Offsets are decimal strings: Kafka offsets are 64-bit.

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** For commit and seek: the offset of the next message to read. */
  offset: string;
}

export type Headers = Record<string, string | Buffer | (string | Buffer)[]>;

/** One message as consumed. */
export interface ConsumedMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  /** Broker or producer timestamp, ms since the epoch, as a decimal string. */
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** Messages of one partition, in offset order. */
export interface MessageBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
  /** Offset of the last message in the batch (what a successful batch moves past). */
  lastOffset: string;
  /** The partition's high watermark when the batch was fetched. */
  highWatermark: string;
}

export interface ConsumerHandlers {
  /**
   * One batch. Resolving means the messages are done with: the consumer fetches on from
   * `lastOffset + 1` (it does not commit; the caller commits). Rejecting means none of the
   * batch was taken: the consumer delivers the same messages again after a backoff.
   */
  onBatch(batch: MessageBatch): Promise<void>;
  /**
   * The group gave these partitions to this member. Called before any batch of them is
   * delivered (the consumer holds their batches until the promise settles), so a `seek`
   * made here decides where reading starts. Nothing needs pausing around it.
   */
  onAssigned(partitions: TopicPartition[]): Promise<void>;
  /** These partitions are being taken away (rebalance or stop); no batch of them follows until reassigned. */
  onRevoked(partitions: TopicPartition[]): void;
  /**
   * The consumer's health in words: a problem (broker unreachable, crashed and restarting)
   * or undefined once it reads again. `stopped` is true when the consumer gave up and will
   * not restart by itself: the owner must start a new one.
   */
  onStatus(problem: string | undefined, stopped: boolean): void;
}

export interface ConsumerOptions {
  groupId: string;
  /** Topics to subscribe to; fixed for the consumer's life (change them by starting a new consumer). */
  topics: readonly string[];
  /** Where a partition without a committed offset starts: true for the earliest retained message. */
  fromBeginning: boolean;
}

/** A member of a consumer group with explicit commits. */
export interface Consumer {
  /** Connects, joins the group and starts delivering batches. Rejects when the brokers cannot be reached. */
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Commits the group's offsets (each the next offset to read). Rejects on failure (e.g. a rebalance in progress). */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Makes the next batch of the partition start at `offset`; batches already fetched from before are dropped. */
  seek(target: TopicPartitionOffset): void;
  /** Leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>;
}

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: string | Buffer;
  headers?: Headers;
}

export interface ProducerOptions {
  /** Wait for every in-sync replica (Kafka acks=all). */
  acksAll: boolean;
}

export interface Producer {
  /**
   * Produces `messages` to `topic` in one request per partition, in order. Messages with
   * the same key go to the same partition and keep their order. Rejects when the brokers
   * did not take them (after the client's own retries).
   */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A client connected to one Kafka cluster (one bootstrap broker list). */
export interface KafkaTransport {
  readonly brokers: readonly string[];
  consumer(options: ConsumerOptions): Consumer;
  producer(options: ProducerOptions): Producer;
  /**
   * For each partition of `topic`, the earliest offset whose timestamp is at or after
   * `timestampMs` (the end of the log when there is none). Resolves to undefined when the
   * cluster does not answer lookups by timestamp (librdkafka's mock cluster does not).
   * Optional: a client without it makes consumers resume from committed offsets only.
   */
  offsetsForTimestamp?(topic: string, timestampMs: number): Promise<Map<number, string> | undefined>;
  /** Closes what `consumer`/`producer` did not (admin connections). Idempotent. */
  close(): Promise<void>;
}

/** Builds the transport for one broker list. */
export type KafkaTransportFactory = (options: { brokers: readonly string[]; clientId: string }) => KafkaTransport;
