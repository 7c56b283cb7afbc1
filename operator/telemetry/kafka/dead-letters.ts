// Copies rejected telemetry messages to their dead-letter topic, in the background: the
// consumer hands a message over and moves on, so a slow or unreachable dead-letter topic can
// never stall telemetry. The copy is best-effort (a failure is counted and logged); the
// original key and value are kept byte for byte, and headers say why and where from.
import type { Logger } from 'pino';
import type { Clock } from '../../base/clock.ts';
import type { TelemetryMetrics } from '../metrics.ts';
import type { Rejection } from './events.ts';
import { RateLimitedLog } from '../log-limiter.ts';
import type { ConsumedMessage, Headers, OutgoingMessage, Producer } from './transport.ts';

/** Header names a dead-lettered message carries (documented in EVENTS.md). */
export const DEAD_LETTER_HEADERS = {
  reason: 'meshpilot-reject-reason',
  field: 'meshpilot-reject-field',
  message: 'meshpilot-reject-message',
  topic: 'meshpilot-source-topic',
  partition: 'meshpilot-source-partition',
  offset: 'meshpilot-source-offset',
} as const;

export interface DeadLetterWriterOptions {
  /** Created on the first dead letter (most clusters never need one). */
  producer: () => Producer;
  metrics: TelemetryMetrics;
  logger: Logger;
  clock: Clock;
  /** Dead letters waiting to be produced; beyond this, new ones are counted as errors and dropped (default 10,000). */
  maxQueued?: number;
}

interface Queued {
  topic: string;
  message: OutgoingMessage;
}

export class DeadLetterWriter {
  readonly #options: DeadLetterWriterOptions;
  readonly #log: RateLimitedLog;
  readonly #maxQueued: number;
  #producer: Producer | undefined;
  #queue: Queued[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;

  constructor(options: DeadLetterWriterOptions) {
    this.#options = options;
    this.#log = new RateLimitedLog(options.logger, options.clock);
    this.#maxQueued = options.maxQueued ?? 10_000;
  }

  /** Queues a copy of `message` (read from `source` at `partition`) for `deadLetterTopic`. Never blocks, never throws. */
  write(deadLetterTopic: string, source: { topic: string; partition: number }, message: ConsumedMessage, rejection: Rejection): void {
    if (this.#closed || this.#queue.length >= this.#maxQueued) {
      this.#failed(1, deadLetterTopic, this.#closed ? 'the source is closing' : `${this.#maxQueued} dead letters already waiting`);
      return;
    }
    const headers: Headers = {};
    if (message.headers) {
      for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers[name] = value;
    }
    headers[DEAD_LETTER_HEADERS.reason] = rejection.reason;
    headers[DEAD_LETTER_HEADERS.field] = rejection.field;
    headers[DEAD_LETTER_HEADERS.message] = rejection.message;
    headers[DEAD_LETTER_HEADERS.topic] = source.topic;
    headers[DEAD_LETTER_HEADERS.partition] = String(source.partition);
    headers[DEAD_LETTER_HEADERS.offset] = message.offset;
    this.#queue.push({ topic: deadLetterTopic, message: { key: message.key, value: message.value ?? Buffer.alloc(0), headers } });
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const { topic, message } of batch) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(message);
      }
      for (const [topic, messages] of byTopic) {
        try {
          this.#producer ??= this.#options.producer();
          await this.#producer.send(topic, messages);
          this.#options.metrics.deadLetters.inc({ source: 'kafka', result: 'ok' }, messages.length);
        } catch (e) {
          this.#failed(messages.length, topic, e instanceof Error ? e.message : String(e));
        }
      }
    }
  }

  #failed(count: number, topic: string, why: string): void {
    this.#options.metrics.deadLetters.inc({ source: 'kafka', result: 'error' }, count);
    this.#log.warn(`dead-letter:${topic}`, { topic, count, error: why }, 'kafka: could not copy rejected messages to the dead-letter topic');
  }

  /** Waits for queued dead letters (at most `timeoutMs`), then closes the producer. Idempotent. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.#closed = true;
    if (this.#draining) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#draining, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    const left = this.#queue.length;
    this.#queue = [];
    if (left > 0) this.#failed(left, 'all', 'the source closed before they were produced');
    await this.#producer?.close();
  }
}
