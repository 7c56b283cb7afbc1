// Incremental ADS (DeltaAggregatedResources), what Envoy prefers. Requests change the
// subscription (resource_names_subscribe / _unsubscribe), report on a new stream what the
// client already holds (initial_resource_versions), and answer responses by nonce. Responses
// carry only resources whose version the client lacks, each with its own version, and name
// the ones that are gone (removed_resources).
import type { EncodedResource } from './resource-cache.ts';
import { AdsStream, type PushPlan, type StreamKind } from './ads-stream.ts';
import { ABSENT, PHANTOM, ackedOf, nackedOf, sentOf, type TypeState } from './stream-state.ts';
import { encodeDeltaResponse, type DeltaDiscoveryRequestMessage } from './wire.ts';

export class DeltaStream extends AdsStream {
  readonly kind: StreamKind = 'delta';
  protected readonly supersedes = false;

  protected handle(message: unknown): void {
    const req = message as DeltaDiscoveryRequestMessage;
    const begun = this.begin(req);
    if (!begun) return;
    const { st, first } = begun;
    this.#subscribe(st, this.dropStar(st.type, req.resource_names_subscribe), this.dropStar(st.type, req.resource_names_unsubscribe), first);
    if (first) this.#initialVersions(st, req.initial_resource_versions ?? {});
    this.push();
  }

  #subscribe(st: TypeState, subscribe: string[], unsubscribe: string[], first: boolean): void {
    let changed = first;
    if (first && st.type.wildcard && subscribe.length === 0) st.wildcard = true;
    for (const n of subscribe) {
      if (n === '*') {
        if (!st.wildcard) changed = true;
        st.wildcard = true;
        continue;
      }
      if (st.wildcard) (st.explicit ??= new Set()).add(n);
      if (!st.entries.has(n)) {
        st.entries.set(this.intern(n), null);
        changed = true;
      } else if (st.entries.get(n) === ABSENT) {
        // Asked again for a name it was told does not exist: tell it again if it still does not.
        st.entries.set(n, null);
        changed = true;
      }
    }
    let released = false;
    for (const n of unsubscribe) {
      if (n === '*') {
        if (!st.wildcard) continue;
        st.wildcard = false;
        for (const name of [...st.entries.keys()]) if (!st.explicit?.has(name)) st.entries.delete(name);
        st.explicit = undefined;
        released = true;
        continue;
      }
      if (st.wildcard) {
        st.explicit?.delete(n);
        continue;
      }
      if (st.entries.delete(n)) released = true;
    }
    if (changed) st.dirty = true;
    if (first && st.wildcard) st.forceRespond = true;
    if (released) {
      const next = { LDS: 'RDS', RDS: 'CDS', CDS: 'EDS', EDS: undefined } as const;
      const kind = next[st.type.kind];
      if (kind) this.markDirty(kind);
    }
  }

  /** What the client says it holds from an earlier stream: the same version counts as sent and ACKed. */
  #initialVersions(st: TypeState, versions: Record<string, string>): void {
    if (!this.node) return;
    const current = this.host.snapshot(this.node.flavor, this.node.scope).resources.get(st.type.kind)!;
    for (const [name, version] of Object.entries(versions)) {
      if (!st.subscribes(name)) continue;
      const r = current.get(name);
      st.entries.set(this.intern(name), r && r.version === version ? r : PHANTOM);
    }
    st.dirty = true;
  }

  protected plan(st: TypeState, desired: ReadonlyMap<string, EncodedResource>): PushPlan | undefined {
    const resources: EncodedResource[] = [];
    for (const [name, r] of desired) {
      const e = st.entries.get(name);
      // Not what the client holds, rejected, or has on its way: every response in flight
      // will be answered (see TypeState.inFlight).
      if (r !== ackedOf(e) && r !== nackedOf(e) && r !== sentOf(e)) resources.push(r);
    }
    const removed: string[] = [];
    for (const [name, e] of st.entries) {
      if (desired.has(name)) continue;
      // Held (or reported by the client) and gone; or asked for by name and never existed.
      if (e === PHANTOM || sentOf(e) !== null || (e === null && st.isExplicit(name))) removed.push(name);
    }
    if (resources.length === 0 && removed.length === 0 && !st.forceRespond) return undefined;
    return { resources, removed };
  }

  protected encode(st: TypeState, plan: PushPlan, version: string, nonce: string): Buffer {
    return encodeDeltaResponse({ systemVersionInfo: version, typeUrl: st.type.typeUrl, nonce, resources: plan.resources, removed: plan.removed });
  }

  protected recordSent(st: TypeState, plan: PushPlan): void {
    for (const r of plan.resources) st.markSent(st.entries.has(r.name) ? r.name : this.intern(r.name), r);
    for (const name of plan.removed) {
      if (st.isExplicit(name)) st.entries.set(name, ABSENT);
      else st.entries.delete(name);
    }
  }
}
