// The controller work queue, with controller-runtime's semantics: a key is queued at most
// once, is never handed to two workers at the same time, and a key added again while it is
// being processed is processed once more after `done`. Failures requeue with per-key
// exponential backoff; delayed adds run on the injected clock.
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { counter, DURATION_BUCKETS, gauge, histogram } from '../base/metrics.ts';

export interface WorkQueueOptions {
  /** Label for the metrics (`meshpilot_workqueue_*{name}`); usually the controller name. */
  name: string;
  clock?: Clock;
  registry?: Registry;
  /** First backoff of `addRateLimited`; doubles per consecutive failure. Default 5 ms. */
  baseDelayMs?: number;
  /** Backoff cap. Default 1000 s. */
  maxDelayMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Live queues per registry, so the longest-running-processor gauge can be computed at scrape time. */
const liveQueues = new WeakMap<Registry, Set<WorkQueue>>();

function queueMetrics(registry: Registry) {
  const live = liveQueues.get(registry) ?? new Set<WorkQueue>();
  liveQueues.set(registry, live);
  const labelNames = ['name'] as const;
  return {
    live,
    depth: gauge(registry, { name: 'meshpilot_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames }),
    adds: counter(registry, { name: 'meshpilot_workqueue_adds_total', help: 'Keys added to the work queue.', labelNames }),
    retries: counter(registry, {
      name: 'meshpilot_workqueue_retries_total',
      help: 'Keys requeued with backoff after a failure.',
      labelNames,
    }),
    queueDuration: histogram(registry, {
      name: 'meshpilot_workqueue_queue_duration_seconds',
      help: 'Time a key waits in the queue before a worker takes it.',
      labelNames,
      buckets: DURATION_BUCKETS,
    }),
    workDuration: histogram(registry, {
      name: 'meshpilot_workqueue_work_duration_seconds',
      help: 'Time a worker spends on a key.',
      labelNames,
      buckets: DURATION_BUCKETS,
    }),
    longest: gauge(registry, {
      name: 'meshpilot_workqueue_longest_running_processor_seconds',
      help: 'How long the longest-running worker of the queue has been on its current key.',
      labelNames,
      collect() {
        for (const q of live) this.set({ name: q.name }, q.longestRunningMs() / 1000);
      },
    }),
  };
}

/**
 * A deduplicating, rate-limited, delaying work queue of string keys.
 *
 * Protocol for workers: `const key = await queue.get()`; `undefined` means the queue is shut
 * down; otherwise process the key and always call `queue.done(key)` afterwards.
 */
export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #metrics: ReturnType<typeof queueMetrics> | undefined;

  /** Keys ready to be handed out, in order. */
  #queue: string[] = [];
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<string>();
  /** Keys a worker holds, with the clock time it took them. */
  readonly #processing = new Map<string, number>();
  /** When each dirty key was added, for the queue-duration metric. */
  readonly #addedAt = new Map<string, number>();
  /** Consecutive failures per key, for the backoff. */
  readonly #failures = new Map<string, number>();
  /** Earliest pending delayed add per key. */
  readonly #waiting = new Map<string, number>();
  #getters: ((key: string | undefined) => void)[] = [];
  #idle: (() => void)[] = [];
  #shuttingDown = false;
  readonly #timers = new AbortController();

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.#metrics = options.registry ? queueMetrics(options.registry) : undefined;
    this.#metrics?.live.add(this);
    this.#metrics?.depth.set({ name: this.name }, 0);
  }

  /**
   * Marks `key` as needing processing. Idempotent while the key waits; a key being
   * processed runs once more after its `done`. Ignored after shutdown.
   */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    this.#metrics?.adds.inc({ name: this.name });
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /**
   * Adds `key` after `delayMs` of clock time (at once when `delayMs` <= 0). Of several
   * pending delayed adds of one key, the earliest wins. Ignored after shutdown.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    // Timers cannot wait longer than 2^31-1 ms; waking early only means an extra reconcile.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    const at = this.#clock.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending !== undefined && pending <= at) return;
    this.#waiting.set(key, at);
    this.#clock.sleep(delayMs, this.#timers.signal).then(
      () => {
        if (this.#waiting.get(key) !== at) return;
        this.#waiting.delete(key);
        this.add(key);
      },
      () => undefined, // aborted by shutdown
    );
  }

  /**
   * Adds `key` after its backoff: 5 ms, 10 ms, 20 ms, ... doubling per call until
   * `forget(key)`, capped at the maximum (1000 s by default).
   */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#metrics?.retries.inc({ name: this.name });
    this.addAfter(key, this.backoffMs(failures));
  }

  /** The delay of a rate-limited add after `failures` earlier consecutive failures. */
  backoffMs(failures: number): number {
    // 2 ** 1100 is Infinity: the cap handles it.
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** failures);
  }

  /** Resets the backoff of `key` (call after a success). Idempotent. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive rate-limited adds of `key` since the last `forget`. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys waiting for a worker (not counting keys being processed or delayed). */
  len(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * The next key to process; waits while the queue is empty. Resolves undefined once the
   * queue is shut down. The caller owns the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Ends processing of `key`; if it was added again meanwhile, it is queued again. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics?.workDuration.observe({ name: this.name }, (this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * Stops accepting keys: waiting and future `get` calls resolve undefined, queued and
   * delayed keys are dropped (reconciles are level-triggered: whoever runs next starts from
   * a full resync), and keys being processed may finish. Idempotent.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#timers.abort();
    this.#queue = [];
    this.#dirty.clear();
    this.#addedAt.clear();
    this.#waiting.clear();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    this.#metrics?.depth.set({ name: this.name }, 0);
    this.#metrics?.live.delete(this);
  }

  /** Shuts down and resolves once every key being processed is `done`. Idempotent. */
  async drain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** How long the longest-held key has been processed, in clock milliseconds (0 when idle). */
  longestRunningMs(): number {
    const now = this.#clock.now();
    let longest = 0;
    for (const started of this.#processing.values()) longest = Math.max(longest, now - started);
    return longest;
  }

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter) {
      getter(this.#take(key));
      return;
    }
    this.#queue.push(key);
    this.#metrics?.depth.set({ name: this.name }, this.#queue.length);
  }

  #take(key: string): string {
    const now = this.#clock.now();
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics?.queueDuration.observe({ name: this.name }, (now - added) / 1000);
    this.#metrics?.depth.set({ name: this.name }, this.#queue.length);
    return key;
  }
}
