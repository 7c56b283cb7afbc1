// A shared informer for one resource: list, then watch from the list's resourceVersion with
// bookmarks; reconnect with exponential backoff and jitter; on 410 Gone relist and emit the
// difference against the cache so that no add, update or delete is lost; periodic resync.
// Handlers see a read-only cache that is updated before they are called.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { isGone, KubeApiError } from './api-error.ts';
import type { KubeObject, ListWatcher, WatchEvent } from './list-watch.ts';
import { objectKey } from '../base/object-key.ts';
import { counter } from '../base/metrics.ts';

export interface InformerHandler<T> {
  onAdd?(obj: T): void;
  /** Also called on resync with `oldObj === newObj`. */
  onUpdate?(oldObj: T, newObj: T): void;
  /** `obj` is the last state the informer knew (after a relist it may predate the deletion). */
  onDelete?(obj: T): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Each delay is stretched by up to this fraction at random (client-go's jitter). */
  jitter: number;
}

export interface InformerOptions<T> {
  /** Resource label for logs and metrics, e.g. `adaptiveroutes.traffic.meshpilot.io`. */
  resource: string;
  listWatcher: ListWatcher<T>;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  /** Re-emit every cached object as an update this often; 0 disables. Default 10 min. */
  resyncPeriodMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Source of randomness for the jitter, in [0, 1). */
  random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 800, maxMs: 30_000, jitter: 0.2 };

/** Thrown inside the loop when the watch must start over from a fresh list. */
class RelistNeeded extends Error {}

function informerMetrics(registry: Registry) {
  return {
    restarts: counter(registry, {
      name: 'meshpilot_informer_watch_restarts_total',
      help: 'Watches re-opened, by why the previous one ended (closed, error, gone).',
      labelNames: ['resource', 'reason'] as const,
    }),
    relists: counter(registry, {
      name: 'meshpilot_informer_relists_total',
      help: 'Full lists of the resource (the first one, and after 410 Gone).',
      labelNames: ['resource'] as const,
    }),
    events: counter(registry, {
      name: 'meshpilot_informer_events_total',
      help: 'Watch events received, by type.',
      labelNames: ['resource', 'type'] as const,
    }),
  };
}

/**
 * The difference between a cache and a fresh list, as the events a watch would have sent:
 * objects only in the list are adds, objects whose resourceVersion changed are updates,
 * objects only in the cache are deletes (carrying their last cached state). Pure.
 */
export function diffRelist<T extends KubeObject>(
  cache: ReadonlyMap<string, T>,
  items: readonly T[],
): { added: T[]; updated: { oldObj: T; newObj: T }[]; deleted: T[] } {
  const added: T[] = [];
  const updated: { oldObj: T; newObj: T }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const key = objectKey(item.metadata.namespace, item.metadata.name);
    seen.add(key);
    const old = cache.get(key);
    if (!old) added.push(item);
    else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) updated.push({ oldObj: old, newObj: item });
  }
  const deleted = [...cache].filter(([key]) => !seen.has(key)).map(([, obj]) => obj);
  return { added, updated, deleted };
}

export class Informer<T extends KubeObject> {
  readonly resource: string;
  readonly #lw: ListWatcher<T>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #resyncMs: number;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #metrics: ReturnType<typeof informerMetrics> | undefined;

  readonly #cache = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #failures = 0;
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.#lw = options.listWatcher;
    this.#log = options.logger.child({ informer: options.resource });
    this.#clock = options.clock ?? systemClock;
    this.#resyncMs = options.resyncPeriodMs ?? 10 * 60_000;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#random = options.random ?? Math.random;
    this.#metrics = options.registry ? informerMetrics(options.registry) : undefined;
  }

  /**
   * Registers handlers. If the informer has synced already, `onAdd` is called at once for
   * every cached object, so late registrants see the full state. Returns an unregister function.
   */
  addHandler(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    if (this.#synced) for (const obj of this.#cache.values()) this.#call(handler, 'onAdd', obj);
    return () => this.#handlers.delete(handler);
  }

  /** Starts list+watch in the background. Idempotent while running. */
  start(): void {
    if (this.#running) return;
    this.#stop = new AbortController();
    const signal = this.#stop.signal;
    const loops = [this.#run(signal)];
    if (this.#resyncMs > 0) loops.push(this.#resync(signal));
    this.#running = Promise.all(loops).then(() => undefined);
  }

  /** Stops watching and resolves when the loops have ended; the cache keeps its contents. Idempotent. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#running;
    this.#running = undefined;
  }

  /** True once the first list has been stored and its adds emitted. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once synced; rejects with the signal's reason if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== done);
        reject(signal?.reason);
      };
      this.#syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The cached object for `namespace/name` (or `name`), or undefined. Do not mutate it. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object, optionally only those in `namespace`. Do not mutate them. */
  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /** The resourceVersion the next watch will start from. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist(signal);
          needList = false;
        }
        await this.#watchOnce(signal);
        if (signal.aborted) break;
        // The server ended a healthy watch (timeout): continue from where we are.
        this.#failures = 0;
        this.#metrics?.restarts.inc({ resource: this.resource, reason: 'closed' });
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof RelistNeeded || isGone(e)) {
          this.#log.info({ resourceVersion: this.#resourceVersion }, 'resourceVersion expired (410 Gone): relisting');
          this.#metrics?.restarts.inc({ resource: this.resource, reason: 'gone' });
          needList = true;
          continue;
        }
        const delay = this.#nextBackoff();
        this.#log.warn({ err: (e as Error).message, retryInMs: delay, relist: needList }, 'list/watch failed');
        this.#metrics?.restarts.inc({ resource: this.resource, reason: 'error' });
        try {
          await this.#clock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  #nextBackoff(): number {
    const base = Math.min(this.#backoff.maxMs, this.#backoff.initialMs * 2 ** this.#failures);
    this.#failures += 1;
    return Math.round(base * (1 + this.#backoff.jitter * this.#random()));
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#lw.list(signal);
    if (signal.aborted) return;
    this.#metrics?.relists.inc({ resource: this.resource });
    const diff = diffRelist(this.#cache, items);
    this.#cache.clear();
    for (const item of items) this.#cache.set(objectKey(item.metadata.namespace, item.metadata.name), item);
    this.#resourceVersion = resourceVersion;
    this.#failures = 0;
    this.#log.debug(
      { resourceVersion, added: diff.added.length, updated: diff.updated.length, deleted: diff.deleted.length },
      'listed',
    );
    for (const obj of diff.deleted) this.#emit('onDelete', obj);
    for (const obj of diff.added) this.#emit('onAdd', obj);
    for (const { oldObj, newObj } of diff.updated) this.#emit('onUpdate', oldObj, newObj);
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  async #watchOnce(stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    // A watch of our own, so an ERROR event can end it without stopping the informer.
    const watch = new AbortController();
    const onStop = () => watch.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    let failure: Error | undefined;
    // Once aborted, stop waiting even if the stream is slow to notice.
    const aborted = new Promise<void>((resolve) => watch.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      await Promise.race([
        this.#lw.watch(
          this.#resourceVersion,
          (event) => {
            if (watch.signal.aborted) return;
            try {
              this.#handle(event);
            } catch (e) {
              failure = e as Error;
              watch.abort(e);
            }
          },
          watch.signal,
        ),
        aborted,
      ]);
    } catch (e) {
      if (!failure && !stop.aborted) throw e;
    } finally {
      stop.removeEventListener('abort', onStop);
    }
    if (failure) throw failure;
  }

  #handle(event: WatchEvent<T>): void {
    this.#metrics?.events.inc({ resource: this.resource, type: event.type });
    if (event.type === 'ERROR') {
      const status = event.object;
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') throw new RelistNeeded();
      throw new KubeApiError(status.code ?? 500, `watch ${this.resource}: ${status.message ?? 'error event'}`);
    }
    // Any event proves the connection is healthy.
    this.#failures = 0;
    const rv = event.object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    const obj = event.object;
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    const old = this.#cache.get(key);
    if (event.type === 'DELETED') {
      this.#cache.delete(key);
      if (rv) this.#resourceVersion = rv;
      this.#emit('onDelete', obj);
      return;
    }
    this.#cache.set(key, obj);
    if (rv) this.#resourceVersion = rv;
    if (old) this.#emit('onUpdate', old, obj);
    else this.#emit('onAdd', obj);
  }

  async #resync(signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await this.#clock.sleep(this.#resyncMs, signal);
      } catch {
        return;
      }
      if (!this.#synced) continue;
      this.#log.debug({ objects: this.#cache.size }, 'resync');
      for (const obj of [...this.#cache.values()]) this.#emit('onUpdate', obj, obj);
    }
  }

  #emit(kind: 'onAdd' | 'onDelete', obj: T): void;
  #emit(kind: 'onUpdate', oldObj: T, newObj: T): void;
  #emit(kind: keyof InformerHandler<T>, a: T, b?: T): void {
    for (const handler of this.#handlers) this.#call(handler, kind, a, b);
  }

  #call(handler: InformerHandler<T>, kind: keyof InformerHandler<T>, a: T, b?: T): void {
    try {
      if (kind === 'onUpdate') handler.onUpdate?.(a, b ?? a);
      else handler[kind]?.(a);
    } catch (e) {
      // A faulty handler must not stop the informer or starve the other handlers.
      this.#log.error({ err: e }, `informer handler ${kind} threw`);
    }
  }
}
