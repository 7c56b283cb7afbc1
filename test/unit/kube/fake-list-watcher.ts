// An in-memory stand-in for one API collection (list + watch with history, bookmarks,
// compaction that makes old resourceVersions answer 410, injected connection failures),
// for unit-testing the informer's logic. Integration tests use the real local server.
import type { Clock } from '../../../operator/base/clock.ts';
import { KubeApiError } from '../../../operator/kube/api-error.ts';
import type { KubeObject, ListResult, ListWatcher, WatchEvent } from '../../../operator/kube/list-watch.ts';

export interface TestObject extends KubeObject {
  data?: string;
}

interface Watcher {
  onEvent: (e: WatchEvent<TestObject>) => void;
  end: () => void;
}

export class FakeListWatcher implements ListWatcher<TestObject> {
  #rv = 1;
  readonly #objects = new Map<string, TestObject>();
  #history: { rv: number; event: WatchEvent<TestObject> }[] = [];
  /** Versions below this are compacted away. */
  #oldest = 1;
  readonly #watchers = new Set<Watcher>();
  /** Clock times (and start versions) of every watch call. */
  readonly watchCalls: { at: number; from: string }[] = [];
  listCalls = 0;
  /** The next N list/watch calls fail as if the server were down. */
  failures = 0;
  /** How an expired version is reported: an HTTP 410 or an ERROR event with code 410. */
  goneAs: 'status' | 'event' = 'event';
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async list(): Promise<ListResult<TestObject>> {
    this.listCalls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new KubeApiError(0, 'connection refused');
    }
    return { items: [...this.#objects.values()].map((o) => structuredClone(o)), resourceVersion: String(this.#rv) };
  }

  watch(from: string, onEvent: (e: WatchEvent<TestObject>) => void, signal: AbortSignal): Promise<void> {
    this.watchCalls.push({ at: this.#clock.now(), from });
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new KubeApiError(0, 'connection refused'));
    }
    if (Number(from) < this.#oldest - 1) {
      if (this.goneAs === 'status') return Promise.reject(new KubeApiError(410, 'too old resource version'));
      onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    for (const h of this.#history) if (h.rv > Number(from)) onEvent(structuredClone(h.event));
    return new Promise<void>((resolve) => {
      const watcher: Watcher = {
        onEvent,
        end: () => {
          this.#watchers.delete(watcher);
          resolve();
        },
      };
      this.#watchers.add(watcher);
      signal.addEventListener('abort', watcher.end, { once: true });
    });
  }

  get activeWatches(): number {
    return this.#watchers.size;
  }

  upsert(name: string, data: string, namespace = 'default'): void {
    const key = `${namespace}/${name}`;
    const existed = this.#objects.has(key);
    this.#rv += 1;
    const obj: TestObject = { metadata: { name, namespace, resourceVersion: String(this.#rv) }, data };
    this.#objects.set(key, obj);
    this.#record({ type: existed ? 'MODIFIED' : 'ADDED', object: obj });
  }

  remove(name: string, namespace = 'default'): void {
    const key = `${namespace}/${name}`;
    const obj = this.#objects.get(key);
    if (!obj) return;
    this.#objects.delete(key);
    this.#rv += 1;
    this.#record({ type: 'DELETED', object: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.#rv) } } });
  }

  bookmark(): void {
    const event: WatchEvent<TestObject> = { type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.#rv) } } };
    for (const w of this.#watchers) w.onEvent(structuredClone(event));
  }

  /** Forgets all history: any watch from an older version now gets 410. */
  compact(): void {
    this.#history = [];
    this.#oldest = this.#rv + 1;
  }

  /** Ends every open watch as a server timeout would. */
  closeWatches(): void {
    for (const w of [...this.#watchers]) w.end();
  }

  /** Changes the collection while no watch is connected (the events are only in history). */
  #record(event: WatchEvent<TestObject>): void {
    this.#history.push({ rv: this.#rv, event });
    for (const w of this.#watchers) w.onEvent(structuredClone(event));
  }
}
