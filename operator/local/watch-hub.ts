// Fan-out of committed changes to watchers, and the bounded history that lets a watch start
// from an older resourceVersion. Events are published synchronously after each durable
// write, so a watcher that replays history and then subscribes (in the same tick) can
// neither miss nor duplicate an event. A resourceVersion older than the retained history
// cannot be served and fails with 410 Expired, as etcd compaction makes real servers do.
import type { KubeObject } from './kube-object.ts';
import { expired } from './status.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A committed change, as the store publishes it. */
export interface StoreEvent {
  type: WatchEventType;
  rv: number;
  /** Storage type key of the object's resource. */
  storageType: string;
  object: KubeObject;
  /** The object before a MODIFIED change (needed to tell when it leaves a selector). */
  previous?: KubeObject;
}

/** What one watcher wants to see. */
export interface WatchFilter {
  storageType: string;
  matches(object: KubeObject): boolean;
}

/** Receives a watcher's events, already translated for its filter. */
export type WatchListener = (type: WatchEventType, object: KubeObject, rv: number) => void;

interface Subscriber {
  filter: WatchFilter;
  listener: WatchListener;
}

function withRv(object: KubeObject, rv: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}

/** Translates a store event for one filter: an object leaving the selector is DELETED, one entering it ADDED. */
function translate(ev: StoreEvent, filter: WatchFilter): { type: WatchEventType; object: KubeObject } | undefined {
  if (ev.storageType !== filter.storageType) return undefined;
  const now = filter.matches(ev.object);
  if (ev.type !== 'MODIFIED' || !ev.previous) return now ? { type: ev.type, object: ev.object } : undefined;
  const before = filter.matches(ev.previous);
  if (now && before) return { type: 'MODIFIED', object: ev.object };
  if (now) return { type: 'ADDED', object: ev.object };
  if (before) return { type: 'DELETED', object: withRv(ev.previous, ev.rv) };
  return undefined;
}

/** History ring and live fan-out. */
export class WatchHub {
  readonly #capacity: number;
  #history: StoreEvent[] = [];
  /** Every event with rv > floor is in #history. */
  #floor = 0;
  #subscribers = new Set<Subscriber>();

  constructor(capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Oldest resourceVersion a watch may start from. */
  get floor(): number {
    return this.#floor;
  }

  /** Declares that history before `rv` is unavailable (used after loading a snapshot). */
  resetFloor(rv: number): void {
    this.#floor = rv;
    this.#history = this.#history.filter((e) => e.rv > rv);
  }

  /** Records a committed event and delivers it to every matching watcher. */
  publish(ev: StoreEvent): void {
    this.#history.push(ev);
    while (this.#history.length > this.#capacity) {
      const dropped = this.#history.shift();
      if (dropped) this.#floor = dropped.rv;
    }
    for (const s of this.#subscribers) {
      const t = translate(ev, s.filter);
      if (t) s.listener(t.type, t.object, ev.rv);
    }
  }

  /**
   * Replays every retained event after `fromRv` that matches, then keeps delivering live
   * events until the returned function is called.
   * @throws ApiError 410 Expired when `fromRv` is older than the retained history.
   */
  subscribe(fromRv: number, filter: WatchFilter, listener: WatchListener): () => void {
    if (fromRv < this.#floor) throw expired(`too old resource version: ${fromRv} (${this.#floor})`);
    for (const ev of this.#history) {
      if (ev.rv <= fromRv) continue;
      const t = translate(ev, filter);
      if (t) listener(t.type, t.object, ev.rv);
    }
    const s: Subscriber = { filter, listener };
    this.#subscribers.add(s);
    return () => {
      this.#subscribers.delete(s);
    };
  }

  /** Number of live watchers (for tests and metrics). */
  get watcherCount(): number {
    return this.#subscribers.size;
  }
}
