// What nodes scoped to a namespace see (mTLS: a node sees its certificate's namespace only):
// per (flavour, namespace) a snapshot of that namespace's routes, assembled from the same
// built resources as the unscoped one, kept only while some connected node uses it.
import type { AdsStream } from './ads-stream.ts';
import type { NodeFlavor } from './capabilities.ts';
import type { Changed, FlavorSnapshot, SnapshotBuilder } from './snapshot.ts';
import { snapshotDiff } from './snapshot.ts';

const keyOf = (flavor: NodeFlavor, scope: string): string => `${flavor} ${scope}`;

export class ScopedSnapshots {
  readonly #builder: SnapshotBuilder;
  #byKey = new Map<string, FlavorSnapshot>();

  constructor(builder: SnapshotBuilder) {
    this.#builder = builder;
  }

  /** What a node of `flavor` scoped to `scope` sees of `all` (the unscoped snapshot served now). */
  get(flavor: NodeFlavor, scope: string, all: FlavorSnapshot): FlavorSnapshot {
    const key = keyOf(flavor, scope);
    let scoped = this.#byKey.get(key);
    if (scoped?.version !== all.version) {
      scoped = this.#builder.scoped(flavor, all.version, scope);
      this.#byKey.set(key, scoped);
    }
    return scoped;
  }

  /**
   * Rebuilds, at `version`, the scoped snapshots the connected `streams` use, and returns
   * what changed for each stream's scope; scopes no stream uses any more are dropped.
   */
  rebuild(streams: Iterable<AdsStream>, version: string): (stream: AdsStream) => Changed | undefined {
    const changed = new Map<string, Changed>();
    const next = new Map<string, FlavorSnapshot>();
    for (const stream of streams) {
      const node = stream.node;
      if (node?.scope === undefined) continue;
      const key = keyOf(node.flavor, node.scope);
      if (next.has(key)) continue;
      const after = this.#builder.scoped(node.flavor, version, node.scope);
      const before = this.#byKey.get(key);
      next.set(key, after);
      // No earlier scoped snapshot: the node has been sent nothing yet, so all of it is new.
      changed.set(key, before ? snapshotDiff(before, after) : new Map([...after.resources].map(([kind, m]) => [kind, new Set(m.keys())])));
    }
    this.#byKey = next;
    return (stream) => (stream.node?.scope === undefined ? undefined : changed.get(keyOf(stream.node.flavor, stream.node.scope)));
  }
}
