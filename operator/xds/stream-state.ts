// What one ADS stream knows about one resource type: the subscription and, per resource name,
// what was sent and what the client ACKed or NACKed. Kept compact because a node may
// subscribe to thousands of resources: in the steady state (sent = ACKed) an entry is just a
// reference to the shared EncodedResource; only resources in flight or rejected carry a Slot.
import type { EncodedResource } from './resource-cache.ts';
import type { ResourceType } from './type-urls.ts';

/** A resource sent and not (yet) ACKed, or NACKed. */
export class Slot {
  sent: EncodedResource | null;
  acked: EncodedResource | null;
  nacked: EncodedResource | null;
  nackMessage: string | undefined;

  constructor(sent: EncodedResource | null, acked: EncodedResource | null, nacked: EncodedResource | null, nackMessage: string | undefined) {
    this.sent = sent;
    this.acked = acked;
    this.nacked = nacked;
    this.nackMessage = nackMessage;
  }
}

/** Delta: the client was told this name does not exist (removed_resources). */
export const ABSENT: unique symbol = Symbol('absent');
/** Delta: the client reported a version of this name (initial_resource_versions) that we do not serve. */
export const PHANTOM: unique symbol = Symbol('phantom');

/**
 * null: subscribed, nothing sent. EncodedResource: sent and ACKed (steady state). Slot: in
 * flight or NACKed. ABSENT / PHANTOM: delta only, see above.
 */
export type Entry = EncodedResource | Slot | null | typeof ABSENT | typeof PHANTOM;

export function sentOf(e: Entry | undefined): EncodedResource | null {
  if (e instanceof Slot) return e.sent;
  return typeof e === 'object' && e !== null ? e : null;
}

export function ackedOf(e: Entry | undefined): EncodedResource | null {
  if (e instanceof Slot) return e.acked;
  return typeof e === 'object' && e !== null ? e : null;
}

export function nackedOf(e: Entry | undefined): EncodedResource | null {
  return e instanceof Slot ? e.nacked : null;
}

export function nackMessageOf(e: Entry | undefined): string | undefined {
  return e instanceof Slot ? e.nackMessage : undefined;
}

function compact(sent: EncodedResource | null, acked: EncodedResource | null, nacked: EncodedResource | null, message: string | undefined): Entry {
  if (nacked === null && sent === acked) return sent;
  return new Slot(sent, acked, nacked, nacked ? message : undefined);
}

/** A response of a type on a stream, until the client answers it. */
export interface Outstanding {
  nonce: string;
  version: string;
  resources: readonly EncodedResource[];
  /** State of the world, full-set type: names this response deleted on the client. */
  deleted: readonly string[];
}

export class TypeState {
  readonly type: ResourceType;
  /** Subscribed to every resource of the type (LDS, CDS only). */
  wildcard = false;
  /** SotW: the first request had no names, so an empty list keeps meaning "everything". */
  legacyWildcard = false;
  /** Under a wildcard, the names also subscribed explicitly (kept when the wildcard goes). */
  explicit: Set<string> | undefined;
  /** Per name: see Entry. Without a wildcard, the keys are exactly the subscribed names. */
  readonly entries = new Map<string, Entry>();
  /**
   * Responses not answered yet, oldest first. State of the world keeps only the newest (a
   * newer response supersedes, and answers to older ones are stale); delta keeps each, since
   * a delta client answers every response, and a NACK of one that a newer response followed
   * is still a NACK.
   */
  inFlight: Outstanding[] = [];
  /** The nonce of the newest response sent for this type on this stream. */
  lastNonce: string | undefined;
  /** A request for this type arrived: only then is anything sent for it. */
  requested = false;
  /** The next push must answer even when nothing changed (first request, new names on a full-set type). */
  forceRespond = false;
  /** Something changed that may need a response. */
  dirty = false;
  sentVersion: string | undefined;
  ackedVersion: string | undefined;
  nackedVersion: string | undefined;
  lastNack: string | undefined;
  /** Envoy: when the route table started waiting for its clusters (see Capabilities.holdRoutesUntilClustersSent). */
  holdingSince: number | undefined;

  constructor(type: ResourceType) {
    this.type = type;
  }

  /** True when `name` is subscribed (explicitly or through the wildcard). */
  subscribes(name: string): boolean {
    return this.wildcard || this.entries.has(name);
  }

  /** True when `name` is subscribed by name, not only through the wildcard. */
  isExplicit(name: string): boolean {
    return this.wildcard ? (this.explicit?.has(name) ?? false) : this.entries.has(name);
  }

  markSent(name: string, res: EncodedResource | null): void {
    const e = this.entries.get(name);
    if (e instanceof Slot && (res !== e.acked || e.nacked !== null)) {
      e.sent = res;
      return;
    }
    this.entries.set(name, compact(res, ackedOf(e), nackedOf(e), nackMessageOf(e)));
  }

  /** The client holds `res` now. */
  markAcked(name: string, res: EncodedResource): void {
    if (!this.entries.has(name)) return;
    const e = this.entries.get(name);
    this.entries.set(name, compact(sentOf(e) ?? res, res, null, undefined));
  }

  /** The client rejected `res` and keeps what it held. */
  markNacked(name: string, res: EncodedResource, message: string): void {
    if (!this.entries.has(name)) return;
    const e = this.entries.get(name);
    this.entries.set(name, compact(sentOf(e) ?? res, ackedOf(e), res, message));
  }

  /** State of the world, full-set type: the client dropped `name` on an ACKed response that left it out. */
  markDeleted(name: string): void {
    const e = this.entries.get(name);
    if (e === undefined || sentOf(e) !== null) return;
    if (this.wildcard && !this.isExplicit(name)) this.entries.delete(name);
    else this.entries.set(name, null);
  }

  /**
   * The client answered `out`: an ACK (no `nack`) means it holds every resource; a NACK that
   * it holds none of the `rejected` ones (their indexes in `out`), and the others. Deletions
   * took effect either way.
   */
  recordAnswer(out: Outstanding, nack: { message: string; rejected: ReadonlySet<number> } | undefined): void {
    if (!nack) {
      for (const r of out.resources) this.markAcked(r.name, r);
      for (const name of out.deleted) this.markDeleted(name);
      this.ackedVersion = out.version;
      return;
    }
    out.resources.forEach((r, i) => {
      if (nack.rejected.has(i)) this.markNacked(r.name, r, nack.message);
      else this.markAcked(r.name, r);
    });
    for (const name of out.deleted) this.markDeleted(name);
    this.nackedVersion = out.version;
    this.lastNack = nack.message;
  }
}

/**
 * The indexes of the resources a NACK rejects: grpc says "resource index N: ..." per rejected
 * resource (when `perResource`); otherwise the whole response of `count` counts as rejected.
 */
export function rejectedIndexes(message: string, count: number, perResource: boolean): Set<number> {
  const all = new Set(Array.from({ length: count }, (_, i) => i));
  if (!perResource) return all;
  const found = new Set<number>();
  for (const m of message.matchAll(/resource index (\d+):/g)) found.add(Number(m[1]));
  return found.size > 0 ? found : all;
}
