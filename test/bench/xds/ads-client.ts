// A simulated proxyless gRPC xDS client: one state-of-the-world ADS stream that subscribes the
// way @grpc/grpc-js-xds does (LDS for its listeners; then RDS, CDS and EDS for the names the
// previous responses carry), sends the Node on the first request only, and ACKs every
// response with its version and nonce (NACKs one it cannot decode). LDS and CDS responses are
// the full set; RDS and EDS responses may carry only some resources (the SotW rules).
//
// Many of these run in one process, so everything the clients share lives in a
// `ClientContext`: decoded summaries are cached by (type, position, bytes) — clients that
// hold the same route set receive byte-identical resources — and subscription lists are
// interned and encoded once.
import * as grpc from '@grpc/grpc-js';
import {
  ADS_METHOD,
  TYPE_URL,
  encodeDiscoveryRequest,
  encodeResourceNames,
  readDiscoveryResponse,
  summariseCluster,
  summariseListener,
  summariseLoadAssignment,
  summariseRouteConfiguration,
  type EnvoyTypes,
  type RawResponse,
  type RouteSummary,
} from './wire.ts';

type TypeUrl = (typeof TYPE_URL)[keyof typeof TYPE_URL];

/** An interned subscription list with its encoded `resource_names`. */
export interface NameList {
  names: readonly string[];
  set: ReadonlySet<string>;
  encoded: Buffer;
}

const CODE_INVALID_ARGUMENT = 3;

/** State shared by every client of one worker process. */
export class ClientContext {
  readonly types: EnvoyTypes;
  readonly listeners: NameList;
  /** RouteConfiguration name → weight key of the intent a client must reach (see `expect`). */
  expected = new Map<string, string>();
  #interned = new Map<string, NameList>();
  #cache = new Map<string, { bytes: Buffer; summary: unknown }[]>();

  constructor(types: EnvoyTypes, listenerNames: readonly string[]) {
    this.types = types;
    this.listeners = this.intern([...listenerNames].sort());
  }

  /** The shared NameList for a sorted list of names. */
  intern(sorted: readonly string[]): NameList {
    const key = sorted.join('\n');
    let list = this.#interned.get(key);
    if (!list) {
      list = { names: sorted, set: new Set(sorted), encoded: encodeResourceNames(sorted) };
      this.#interned.set(key, list);
    }
    return list;
  }

  /** Decodes resource `index` of a response of `typeUrl`, reusing the summary when the bytes repeat. */
  summarise<T>(typeUrl: TypeUrl, index: number, bytes: Buffer, decode: (types: EnvoyTypes, b: Buffer) => T): T {
    let slots = this.#cache.get(typeUrl);
    if (!slots) this.#cache.set(typeUrl, (slots = []));
    const hit = slots[index];
    if (hit && hit.bytes.equals(bytes)) return hit.summary as T;
    const summary = decode(this.types, bytes);
    slots[index] = { bytes: Buffer.from(bytes), summary };
    return summary;
  }
}

interface TypeState {
  /** Last ACKed version ('' before the first). */
  version: string;
  nonce: string;
  names: NameList | undefined;
  /** True once a response carried every subscribed name (LDS/CDS/EDS). */
  complete: boolean;
}

export interface ClientEvents {
  /** The initial config (every subscribed resource of the four types) is ACKed. */
  synced(client: SimulatedAdsClient): void;
  /** Every RouteConfiguration matches `ClientContext.expected`, and the response that got it there was ACKed. */
  converged(client: SimulatedAdsClient): void;
  failed(client: SimulatedAdsClient, error: Error): void;
}

export class SimulatedAdsClient {
  readonly id: string;
  readonly #ctx: ClientContext;
  readonly #events: ClientEvents;
  readonly #node: Buffer;
  #client: grpc.Client | undefined;
  #call: grpc.ClientDuplexStream<Buffer, RawResponse> | undefined;
  #sentNode = false;
  readonly #state = new Map<TypeUrl, TypeState>();
  readonly #routes = new Map<string, RouteSummary>();
  /** How many held RouteConfigurations match `ctx.expected`. */
  #matching = 0;
  #edsSeen: Set<string> | undefined;
  synced = false;
  closed = false;
  /** Per push window (see `beginPush`). */
  convergedAtNs: bigint | undefined;
  bytes = 0;
  responses = 0;
  responsesByType: Record<string, number> = {};
  nacks = 0;

  constructor(id: string, ctx: ClientContext, node: Buffer, events: ClientEvents) {
    this.id = id;
    this.#ctx = ctx;
    this.#node = node;
    this.#events = events;
    for (const t of Object.values(TYPE_URL)) this.#state.set(t, { version: '', nonce: '', names: undefined, complete: false });
  }

  /** Opens its own channel (its own TCP connection; TLS with `credentials`) and the ADS stream, and subscribes to LDS. */
  start(address: string, credentials?: grpc.ChannelCredentials): void {
    this.#client = new grpc.Client(address, credentials ?? grpc.credentials.createInsecure(), {
      ...(credentials ? { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' } : {}),
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
    });
    const call = this.#client.makeBidiStreamRequest<Buffer, RawResponse>(ADS_METHOD, (b: Buffer) => b, readDiscoveryResponse);
    this.#call = call;
    call.on('data', (r: RawResponse) => {
      try {
        this.#onResponse(r);
      } catch (e) {
        this.#fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    call.on('error', (e: Error) => this.#fail(e));
    call.on('end', () => this.#fail(new Error('server ended the stream')));
    this.#subscribe(TYPE_URL.listener, this.#ctx.listeners);
  }

  /** Starts a push window: forget the previous convergence and count bytes afresh. */
  beginPush(): void {
    this.convergedAtNs = undefined;
    this.bytes = 0;
    this.responses = 0;
    this.responsesByType = {};
    this.#matching = 0;
    for (const r of this.#routes.values()) if (this.#ctx.expected.get(r.name) === r.weightKey) this.#matching++;
  }

  close(): void {
    this.closed = true;
    this.#call?.cancel();
    this.#client?.close();
  }

  #fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#events.failed(this, e);
    this.#client?.close();
  }

  #send(typeUrl: TypeUrl, extra: { errorDetail?: { code: number; message: string } } = {}): void {
    const s = this.#state.get(typeUrl)!;
    const request = encodeDiscoveryRequest({
      versionInfo: s.version,
      node: this.#sentNode ? undefined : this.#node,
      resourceNames: s.names?.encoded ?? Buffer.alloc(0),
      typeUrl,
      responseNonce: s.nonce,
      errorDetail: extra.errorDetail,
    });
    this.#sentNode = true;
    this.#call?.write(request);
  }

  /** Changes the subscription of `typeUrl` when `names` differ from the current one. */
  #subscribe(typeUrl: TypeUrl, names: NameList): void {
    const s = this.#state.get(typeUrl)!;
    if (s.names === names) return;
    s.names = names;
    s.complete = false;
    if (typeUrl === TYPE_URL.clusterLoadAssignment) this.#edsSeen = undefined;
    this.#send(typeUrl);
  }

  #onResponse(r: RawResponse): void {
    this.bytes += r.size;
    this.responses++;
    this.responsesByType[r.typeUrl] = (this.responsesByType[r.typeUrl] ?? 0) + 1;
    const s = this.#state.get(r.typeUrl as TypeUrl);
    if (!s) throw new Error(`response of unknown type ${r.typeUrl}`);
    s.nonce = r.nonce;
    let next: (() => void) | undefined;
    try {
      next = this.#apply(r.typeUrl as TypeUrl, r, s);
    } catch (e) {
      // NACK: keep the last version, carry the nonce and the reason.
      this.nacks++;
      this.#send(r.typeUrl as TypeUrl, { errorDetail: { code: CODE_INVALID_ARGUMENT, message: (e as Error).message } });
      return;
    }
    s.version = r.versionInfo;
    this.#send(r.typeUrl as TypeUrl); // ACK
    if (r.typeUrl === TYPE_URL.routeConfiguration && this.convergedAtNs === undefined && this.#matching === this.#ctx.expected.size) {
      this.convergedAtNs = process.hrtime.bigint();
      this.#events.converged(this);
    }
    next?.();
    if (!this.synced && this.#isSynced()) {
      this.synced = true;
      this.#events.synced(this);
    }
  }

  /** Applies a response to the client's state; returns the follow-up subscription, if any. */
  #apply(typeUrl: TypeUrl, r: RawResponse, s: TypeState): (() => void) | undefined {
    for (const t of r.resourceTypes) if (t !== typeUrl) throw new Error(`resource of type ${t} in a ${typeUrl} response`);
    const ctx = this.#ctx;
    switch (typeUrl) {
      case TYPE_URL.listener: {
        const names = new Set<string>();
        let seen = 0;
        r.resources.forEach((b, i) => {
          const l = ctx.summarise(typeUrl, i, b, summariseListener);
          if (s.names?.set.has(l.name)) seen++;
          if (l.routeConfigName) names.add(l.routeConfigName);
        });
        s.complete = seen === s.names?.names.length;
        const rds = ctx.intern([...names].sort());
        return () => this.#subscribe(TYPE_URL.routeConfiguration, rds);
      }
      case TYPE_URL.routeConfiguration: {
        // Decode everything before changing state: a response that fails to decode is NACKed whole.
        const decoded = r.resources.map((b, i) => ctx.summarise(typeUrl, i, b, summariseRouteConfiguration));
        let clustersChanged = false;
        decoded.forEach((rc) => {
          const old = this.#routes.get(rc.name);
          if (old && ctx.expected.get(old.name) === old.weightKey) this.#matching--;
          if (ctx.expected.get(rc.name) === rc.weightKey) this.#matching++;
          if (old?.clusterKey !== rc.clusterKey) clustersChanged = true;
          this.#routes.set(rc.name, rc);
        });
        if (!clustersChanged) return undefined;
        return () => {
          const wanted = this.#state.get(TYPE_URL.routeConfiguration)!.names?.set;
          const clusters = new Set<string>();
          for (const rc of this.#routes.values()) if (wanted?.has(rc.name)) for (const c of rc.clusters) clusters.add(c);
          this.#subscribe(TYPE_URL.cluster, ctx.intern([...clusters].sort()));
        };
      }
      case TYPE_URL.cluster: {
        const eds = new Set<string>();
        let seen = 0;
        r.resources.forEach((b, i) => {
          const c = ctx.summarise(typeUrl, i, b, summariseCluster);
          if (s.names?.set.has(c.name)) seen++;
          if (c.edsName) eds.add(c.edsName);
        });
        s.complete = seen === s.names?.names.length;
        const list = ctx.intern([...eds].sort());
        return () => this.#subscribe(TYPE_URL.clusterLoadAssignment, list);
      }
      case TYPE_URL.clusterLoadAssignment: {
        // EDS may arrive in parts: remember the names seen until every subscribed one came.
        if (s.complete) return undefined;
        const decoded = r.resources.map((b, i) => ctx.summarise(typeUrl, i, b, summariseLoadAssignment));
        const seen = (this.#edsSeen ??= new Set());
        for (const cla of decoded) if (s.names?.set.has(cla.name)) seen.add(cla.name);
        if (seen.size === s.names?.names.length) {
          s.complete = true;
          this.#edsSeen = undefined;
        }
        return undefined;
      }
    }
  }

  #isSynced(): boolean {
    const rdsNames = this.#state.get(TYPE_URL.routeConfiguration)!.names;
    const routesComplete = rdsNames !== undefined && rdsNames.names.length > 0 && rdsNames.names.every((n) => this.#routes.has(n));
    return (
      this.#state.get(TYPE_URL.listener)!.complete &&
      routesComplete &&
      this.#state.get(TYPE_URL.cluster)!.complete &&
      this.#state.get(TYPE_URL.clusterLoadAssignment)!.complete
    );
  }
}
