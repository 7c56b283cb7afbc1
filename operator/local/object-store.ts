// The object store: every object of every resource, keyed by storage type and
// `namespace/name`, with one global resourceVersion counter. Each write is appended to the
// state log (fsync'd) before it is visible or published to watchers, and the counter comes
// back from the log on restart, so it never goes backwards. Writes are synchronous, so two
// requests can never interleave between a read and the write that depends on it.
import type { KubeObject } from './kube-object.ts';
import { objectKey } from '../base/object-key.ts';
import { StateLog } from './state-log.ts';
import type { LogRecovery } from './state-log.ts';
import type { LogRecord } from './state-log-scan.ts';
import { WatchHub } from './watch-hub.ts';
import type { WatchEventType } from './watch-hub.ts';

export interface ObjectStoreOptions {
  stateDir: string;
  /** Events kept for watches that resume from a resourceVersion. */
  watchHistory: number;
  /** Log records between snapshots. */
  compactEvery?: number;
  /** Start from a corrupt log, keeping its valid records (see StateLog.open). */
  salvage?: boolean;
}

function keyOf(o: KubeObject): string {
  return objectKey(o.metadata.namespace, o.metadata.name ?? '');
}

/** Durable, versioned object storage with a watch hub. Stored objects must not be mutated by callers. */
export class ObjectStore {
  readonly hub: WatchHub;
  /** What loading the state directory had to repair (a torn tail, a salvage). */
  recovery: LogRecovery = {};
  readonly #log: StateLog;
  readonly #types = new Map<string, Map<string, KubeObject>>();
  #rv: number;

  private constructor(log: StateLog, hub: WatchHub, rv: number) {
    this.#log = log;
    this.hub = hub;
    this.#rv = rv;
  }

  /**
   * Loads the state directory (which the caller has locked). The retained watch history is
   * rebuilt from the log records after the last snapshot, so a watch from a pre-restart
   * resourceVersion replays what it missed, or gets 410 if that is older than the snapshot.
   */
  static open(options: ObjectStoreOptions): ObjectStore {
    const { log, state, recovery } = StateLog.open(options.stateDir, {
      ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
      salvage: options.salvage ?? false,
    });
    const hub = new WatchHub(options.watchHistory);
    hub.resetFloor(state.snapshotRv);
    const store = new ObjectStore(log, hub, state.rv);
    store.recovery = recovery;
    for (const { type, object } of state.snapshot) store.#bucket(type).set(keyOf(object), object);
    for (const r of state.records) store.#replay(r);
    return store;
  }

  #bucket(type: string): Map<string, KubeObject> {
    let b = this.#types.get(type);
    if (!b) {
      b = new Map();
      this.#types.set(type, b);
    }
    return b;
  }

  #replay(r: LogRecord): void {
    const bucket = this.#bucket(r.type);
    const key = keyOf(r.object);
    const previous = bucket.get(key);
    if (r.op === 'delete') {
      bucket.delete(key);
      this.hub.publish({ type: 'DELETED', rv: r.rv, storageType: r.type, object: r.object });
    } else {
      bucket.set(key, r.object);
      const ev = previous
        ? { type: 'MODIFIED' as const, rv: r.rv, storageType: r.type, object: r.object, previous }
        : { type: 'ADDED' as const, rv: r.rv, storageType: r.type, object: r.object };
      this.hub.publish(ev);
    }
  }

  /** The newest resourceVersion issued. */
  get resourceVersion(): number {
    return this.#rv;
  }

  get(type: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#types.get(type)?.get(objectKey(namespace, name));
  }

  /** Objects of a type (in one namespace, or all), sorted by `namespace/name` like etcd keys. */
  list(type: string, namespace?: string): KubeObject[] {
    const bucket = this.#types.get(type);
    if (!bucket) return [];
    const entries = [...bucket.entries()].filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return entries.map(([, o]) => o);
  }

  /**
   * Stores `object` (created or replaced), stamping the next resourceVersion; durable when
   * this returns.
   * @throws MeshpilotError STORAGE_FAILED when the log cannot be written (nothing changes).
   */
  put(type: string, object: KubeObject): KubeObject {
    const rv = this.#rv + 1;
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    this.#log.append({ rv, op: 'put', type, object: stored });
    this.#rv = rv;
    const bucket = this.#bucket(type);
    const key = keyOf(stored);
    const previous = bucket.get(key);
    bucket.set(key, stored);
    const eventType: WatchEventType = previous ? 'MODIFIED' : 'ADDED';
    this.hub.publish(previous ? { type: eventType, rv, storageType: type, object: stored, previous } : { type: eventType, rv, storageType: type, object: stored });
    this.#maybeCompact();
    return stored;
  }

  /** Removes `object` (its last state is what DELETED watchers see, with a new resourceVersion). */
  remove(type: string, object: KubeObject): KubeObject {
    const rv = this.#rv + 1;
    const removed: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    this.#log.append({ rv, op: 'delete', type, object: removed });
    this.#rv = rv;
    this.#bucket(type).delete(keyOf(removed));
    this.hub.publish({ type: 'DELETED', rv, storageType: type, object: removed });
    this.#maybeCompact();
    return removed;
  }

  #maybeCompact(): void {
    if (!this.#log.wantsCompaction) return;
    const objects: { type: string; object: KubeObject }[] = [];
    for (const [type, bucket] of this.#types) for (const object of bucket.values()) objects.push({ type, object });
    this.#log.compact(this.#rv, objects);
  }

  /** Closes the log; idempotent. */
  close(): void {
    this.#log.close();
  }
}
