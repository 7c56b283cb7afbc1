// State-of-the-world ADS (StreamAggregatedResources), what grpc-js-xds speaks. Each request
// carries the full list of names the client wants for a type and answers (ACK/NACK) the last
// response of that type by its nonce. LDS and CDS responses carry every subscribed resource
// (absence means deletion); RDS and EDS responses carry only what the client lacks.
import type { EncodedResource } from './resource-cache.ts';
import { AdsStream, type PushPlan, type StreamKind } from './ads-stream.ts';
import { nackedOf, sentOf, ackedOf, type TypeState } from './stream-state.ts';
import { encodeDiscoveryResponse, type DiscoveryRequestMessage } from './wire.ts';

/** True when `names` lists exactly `keys`, in order (same length checked by the caller). */
function sameOrder(names: readonly string[], keys: Iterable<string>): boolean {
  let i = 0;
  for (const k of keys) if (names[i++] !== k) return false;
  return true;
}

export class SotwStream extends AdsStream {
  readonly kind: StreamKind = 'sotw';
  protected readonly supersedes = true;

  protected handle(message: unknown): void {
    const req = message as DiscoveryRequestMessage;
    const begun = this.begin(req);
    if (!begun) return;
    const { st, first } = begun;
    this.#subscribe(st, this.dropStar(st.type, req.resource_names), first);
    this.push();
  }

  #subscribe(st: TypeState, names: string[], first: boolean): void {
    // The common case, an ACK naming what is already subscribed: nothing to do.
    // Clients repeat the list in the order it was subscribed in, so first compare in step with
    // the subscription (no hashing), then fall back to looking every name up.
    if (!first && !st.wildcard && !st.legacyWildcard && names.length === st.entries.size && (sameOrder(names, st.entries.keys()) || names.every((n) => n !== '*' && st.entries.has(n)))) return;
    const explicit = names.filter((n) => n !== '*');
    if (st.type.wildcard) {
      if (first && names.length === 0) st.legacyWildcard = true;
      else if (explicit.length > 0 && !names.includes('*')) st.legacyWildcard = false;
    }
    const wildcard = st.type.wildcard && (names.includes('*') || (names.length === 0 && st.legacyWildcard));
    let added = false;
    if (wildcard) {
      if (!st.wildcard) added = true;
      st.wildcard = true;
      st.explicit = explicit.length > 0 ? new Set(explicit) : undefined;
      for (const n of explicit) if (!st.entries.has(n)) {
        st.entries.set(this.intern(n), null);
        added = true;
      }
    } else {
      const wanted = new Set(explicit);
      const wasWildcard = st.wildcard;
      st.wildcard = false;
      st.explicit = undefined;
      let removed = wasWildcard;
      for (const n of [...st.entries.keys()]) if (!wanted.has(n)) {
        st.entries.delete(n);
        removed = true;
      }
      for (const n of wanted) if (!st.entries.has(n)) {
        st.entries.set(this.intern(n), null);
        added = true;
      }
      if (removed) this.#released(st);
    }
    if (first || added) {
      st.dirty = true;
      // LDS/CDS answer every change of names, so a client learns at once that a name does not exist.
      if (st.type.fullSet) st.forceRespond = true;
    }
  }

  /** An unsubscribed name may have kept something of the next type alive. */
  #released(st: TypeState): void {
    const next = { LDS: 'RDS', RDS: 'CDS', CDS: 'EDS', EDS: undefined } as const;
    const kind = next[st.type.kind];
    if (kind) this.markDirty(kind);
  }

  protected plan(st: TypeState, desired: ReadonlyMap<string, EncodedResource>): PushPlan | undefined {
    if (st.type.fullSet) {
      let changed = st.forceRespond;
      const removed: string[] = [];
      for (const [name, r] of desired) if (sentOf(st.entries.get(name)) !== r) changed = true;
      for (const [name, e] of st.entries) if (sentOf(e) !== null && !desired.has(name)) removed.push(name);
      if (!changed && removed.length === 0) return undefined;
      return { resources: [...desired.values()], removed };
    }
    const resources: EncodedResource[] = [];
    for (const [name, r] of desired) {
      const e = st.entries.get(name);
      // Not what the client holds, not what it rejected, and not already on its way (unless
      // the response it is on is still unanswered: this one supersedes it, so it repeats it).
      if (r !== ackedOf(e) && r !== nackedOf(e) && (r !== sentOf(e) || st.inFlight.length > 0)) resources.push(r);
    }
    return resources.length > 0 ? { resources, removed: [] } : undefined;
  }

  protected encode(st: TypeState, plan: PushPlan, version: string, nonce: string): Buffer {
    return encodeDiscoveryResponse({ versionInfo: version, typeUrl: st.type.typeUrl, nonce, resources: plan.resources });
  }

  protected recordSent(st: TypeState, plan: PushPlan): void {
    for (const r of plan.resources) {
      if (!st.entries.has(r.name) && !st.wildcard) continue;
      st.markSent(st.entries.has(r.name) ? r.name : this.intern(r.name), r);
    }
    for (const name of plan.removed) st.markSent(name, null);
  }
}
