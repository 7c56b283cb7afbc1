// Runs a Reconciler over a work queue fed by informers, with controller-runtime's contract:
// the work item is only the object key; reconcile re-reads the world; errors requeue with
// per-key backoff unless they are terminal; success forgets the backoff; a requested
// requeue comes back after the given delay. Each pass logs with its own reconcileId.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { ERROR_CODES, MeshpilotError, toMeshpilotError } from '../base/errors.ts';
import type { Informer } from '../kube/informer.ts';
import type { KubeObject } from '../kube/list-watch.ts';
import { objectKey } from '../base/object-key.ts';
import { counter, DURATION_BUCKETS, histogram } from '../base/metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface ReconcileContext {
  /** Child logger carrying `controller`, `reconcileId` and `key`. */
  logger: Logger;
  reconcileId: string;
  /** Aborts when the controller is stopping; long reconciles should give up early. */
  signal: AbortSignal;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (periodic work, expiring state). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  /**
   * Brings the world in line with the object `key` (`namespace/name`). Must be idempotent and
   * level-triggered. Throw a MeshpilotError with `retriable: false` for failures that only a
   * change of the object can fix; anything else is retried with backoff.
   */
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  /** Names the controller in logs and metrics (`controller` / `name` labels). */
  name: string;
  reconciler: Reconciler;
  logger: Logger;
  /** Concurrent workers; one key is never worked on by two. Default 1. */
  workers?: number;
  clock?: Clock;
  registry?: Registry;
  /** Backoff of failed keys (defaults 5 ms → 1000 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export const RECONCILE_RESULTS = { success: 'success', error: 'error', requeue: 'requeue' } as const;

function controllerMetrics(registry: Registry) {
  return {
    total: counter(registry, {
      name: 'meshpilot_reconcile_total',
      help: 'Reconcile passes, by controller and result (success, error, requeue).',
      labelNames: ['controller', 'result'] as const,
    }),
    errors: counter(registry, {
      name: 'meshpilot_reconcile_errors_total',
      help: 'Reconcile passes that failed, retriable or not.',
      labelNames: ['controller'] as const,
    }),
    terminal: counter(registry, {
      name: 'meshpilot_reconcile_terminal_errors_total',
      help: 'Reconcile failures that are not retried until the object changes.',
      labelNames: ['controller'] as const,
    }),
    duration: histogram(registry, {
      name: 'meshpilot_reconcile_duration_seconds',
      help: 'Time of one reconcile pass.',
      labelNames: ['controller'] as const,
      buckets: DURATION_BUCKETS,
    }),
  };
}

interface Source {
  informer: Informer<KubeObject>;
  map: (obj: KubeObject) => string[];
}

export class Controller {
  readonly name: string;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #workers: number;
  readonly #clock: Clock;
  readonly #registry: Registry | undefined;
  readonly #options: ControllerOptions;
  readonly #metrics: ReturnType<typeof controllerMetrics> | undefined;
  readonly #sources: Source[] = [];
  #queue: WorkQueue | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#reconciler = options.reconciler;
    this.#log = options.logger.child({ controller: options.name });
    this.#workers = Math.max(1, options.workers ?? 1);
    this.#clock = options.clock ?? systemClock;
    this.#registry = options.registry;
    this.#metrics = options.registry ? controllerMetrics(options.registry) : undefined;
  }

  /**
   * Feeds the controller from `informer`: every add, update, delete and resync of an object
   * enqueues the keys `map` returns (default: the object's own key). Use a mapping to react to
   * related objects, e.g. a ContactPlan change enqueues the routes that reference it. Events
   * that arrive while the controller is not running are dropped: `run` enqueues everything
   * from the informers' caches when it starts. Register before `run`.
   */
  watch<T extends KubeObject>(informer: Informer<T>, map?: (obj: T) => string[]): void {
    const toKeys = (map ?? ((obj: T) => [objectKey(obj.metadata.namespace, obj.metadata.name)])) as (obj: KubeObject) => string[];
    const source: Source = { informer: informer as unknown as Informer<KubeObject>, map: toKeys };
    this.#sources.push(source);
    const enqueue = (obj: KubeObject) => {
      const queue = this.#queue;
      if (!queue) return;
      for (const key of toKeys(obj)) queue.add(key);
    };
    informer.addHandler({
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        enqueue(newObj);
        // A mapping may point elsewhere after the change (a route that dropped its plan reference).
        if (map && oldObj !== newObj) enqueue(oldObj);
      },
      onDelete: enqueue,
    });
  }

  /** Adds `key` to the running controller's queue (no-op when not running). */
  enqueue(key: string): void {
    this.#queue?.add(key);
  }

  /** True while `run` is active. */
  get running(): boolean {
    return this.#queue !== undefined && !this.#queue.shuttingDown;
  }

  /**
   * Runs the workers until `signal` aborts, then stops taking keys, lets reconciles in
   * progress finish, and resolves. Waits for the informers to sync first and enqueues every
   * cached object, so a fresh leader reconciles the full state. May be called again after it
   * resolved. Throws if already running.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new MeshpilotError(ERROR_CODES.INTERNAL, `controller ${this.name} is already running`);
    const queue = new WorkQueue({
      name: this.name,
      clock: this.#clock,
      registry: this.#registry,
      baseDelayMs: this.#options.baseDelayMs,
      maxDelayMs: this.#options.maxDelayMs,
    });
    this.#queue = queue;
    const stop = () => queue.shutDown();
    signal.addEventListener('abort', stop, { once: true });
    try {
      if (signal.aborted) return;
      try {
        await Promise.all(this.#sources.map((s) => s.informer.waitForSync(signal)));
      } catch {
        return;
      }
      for (const source of this.#sources) {
        for (const obj of source.informer.list()) for (const key of source.map(obj)) queue.add(key);
      }
      this.#log.info({ workers: this.#workers }, 'controller started');
      await Promise.all(Array.from({ length: this.#workers }, () => this.#worker(queue, signal)));
      await queue.drain();
      this.#log.info('controller stopped');
    } finally {
      signal.removeEventListener('abort', stop);
      queue.shutDown();
      if (this.#queue === queue) this.#queue = undefined;
    }
  }

  async #worker(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.#process(queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  async #process(queue: WorkQueue, key: string, signal: AbortSignal): Promise<void> {
    const reconcileId = randomUUID();
    const logger = this.#log.child({ reconcileId, key });
    const started = this.#clock.now();
    const labels = { controller: this.name };
    try {
      const result = await this.#reconciler.reconcile(key, { logger, reconcileId, signal });
      queue.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        queue.addAfter(key, after);
        this.#metrics?.total.inc({ ...labels, result: RECONCILE_RESULTS.requeue });
        logger.debug({ requeueAfterMs: after }, 'reconciled; requeue requested');
      } else {
        this.#metrics?.total.inc({ ...labels, result: RECONCILE_RESULTS.success });
        logger.debug('reconciled');
      }
    } catch (e) {
      const err = toMeshpilotError(e);
      this.#metrics?.total.inc({ ...labels, result: RECONCILE_RESULTS.error });
      this.#metrics?.errors.inc(labels);
      if (err.retriable && !signal.aborted) {
        queue.addRateLimited(key);
        logger.warn({ err: err.message, code: err.code, attempt: queue.numRequeues(key) }, 'reconcile failed; will retry');
      } else if (!err.retriable) {
        // Retrying cannot help; the next change of the object will trigger a new pass.
        queue.forget(key);
        this.#metrics?.terminal.inc(labels);
        logger.error({ err, code: err.code }, 'reconcile failed; not retrying');
      }
    } finally {
      this.#metrics?.duration.observe(labels, (this.#clock.now() - started) / 1000);
    }
  }
}
