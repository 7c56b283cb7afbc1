// Encoded resources, shared: each distinct resource is encoded into its `Any` once, and every
// node of every flavour that is sent it gets the same bytes. Identity is the content (a hash of
// the type, the owning route and the encoded message), which is also the resource's version
// in delta responses: stable across restarts, so a reconnecting Envoy that reports the versions
// it holds is not sent them again.
import { createHash } from 'node:crypto';
import { encodeAny } from './proto-bytes.ts';
import type { XdsProtos } from './protos.ts';
import type { ResourceType } from './type-urls.ts';

export interface EncodedResource {
  readonly type: ResourceType;
  readonly name: string;
  /** Content hash: equal versions mean byte-identical resources. */
  readonly version: string;
  /** The route this resource belongs to; undefined for a resource shared by every route. */
  readonly routeKey: string | undefined;
  /**
   * For a shared resource that carries a part per route (Envoy's route table: one virtual host
   * per route), the content hash of each route's part. A node is in sync with a route when the
   * part it holds equals the current one.
   */
  readonly routeParts: ReadonlyMap<string, string> | undefined;
  /** Names of the resources this one points at: RDS for a listener, clusters for a route table, EDS for a cluster. */
  readonly refs: readonly string[];
  /** The encoded message. */
  readonly body: Uint8Array;
  /** The encoded `google.protobuf.Any` wrapping `body`. */
  readonly any: Uint8Array;
  /** The resource as a field of a DiscoveryResponse, filled in on first use. */
  sotwField?: Uint8Array;
  /** The resource as a delta `Resource` field of a DeltaDiscoveryResponse, filled in on first use. */
  deltaField?: Uint8Array;
}

/** A resource as the builders describe it, before encoding. */
export interface ResourceSpec {
  type: ResourceType;
  name: string;
  routeKey: string | undefined;
  refs: string[];
  /** Plain object with snake_case keys; nested `Any` values as `{ '@type': url, ...fields }`. */
  value: object;
  /** The encoded message when the caller assembled it already (then `value` is not encoded). */
  body?: Uint8Array;
  routeParts?: ReadonlyMap<string, string>;
}

/** Content hash used as a resource version: 16 characters of base64url SHA-256 (96 bits). */
export function contentHash(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('base64url').slice(0, 16);
}

/**
 * Encodes resource specs, returning the cached EncodedResource when an identical one exists.
 * `retainOnly` drops every entry not in the given set (call it after each snapshot so the
 * cache holds what is served and nothing else).
 */
export class ResourceEncoder {
  readonly #protos: XdsProtos;
  #cache = new Map<string, EncodedResource>();

  constructor(protos: XdsProtos) {
    this.#protos = protos;
  }

  encode(spec: ResourceSpec): EncodedResource {
    return this.#encode(spec);
  }

  /** Encodes one message of type `name` (a part of a resource, e.g. a virtual host), cached by input like resources. */
  encodePart(name: string, value: object): Uint8Array {
    const key = `${name}\0${JSON.stringify(value)}`;
    let part = this.#parts.get(key);
    if (!part) {
      part = this.#protos.encode(name, value);
      this.#parts.set(key, part);
    }
    this.#partsInUse.add(key);
    return part;
  }

  #parts = new Map<string, Uint8Array>();
  #partsInUse = new Set<string>();

  #encode(spec: ResourceSpec): EncodedResource {
    const body = spec.body ?? this.#protos.encode(spec.type.message, spec.value);
    const version = contentHash(spec.type.typeUrl, spec.routeKey ?? '*', body);
    const cached = this.#cache.get(version);
    if (cached) return cached;
    const res: EncodedResource = {
      type: spec.type,
      name: spec.name,
      version,
      routeKey: spec.routeKey,
      routeParts: spec.routeParts,
      refs: [...spec.refs],
      body,
      any: encodeAny(spec.type.typeUrl, body),
    };
    this.#cache.set(version, res);
    return res;
  }

  retainOnly(resources: Iterable<EncodedResource>): void {
    const next = new Map<string, EncodedResource>();
    for (const r of resources) next.set(r.version, r);
    this.#cache = next;
    for (const key of this.#parts.keys()) if (!this.#partsInUse.has(key)) this.#parts.delete(key);
    this.#partsInUse = new Set();
  }

  get size(): number {
    return this.#cache.size;
  }
}
