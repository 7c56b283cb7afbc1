// One ADS stream, whichever the variant: admission of requests (rate limit, size, decoding),
// node identification, and the push cycle that decides what each resource type needs sent.
// SotwStream and DeltaStream add how requests are read and responses written. A stream never
// throws into gRPC: whatever a node sends, the worst outcome is that its own stream ends.
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CAPABILITIES, flavorOf } from './capabilities.ts';
import { REJECT_REASONS, type RejectReason } from './metrics.ts';
import type { EncodedResource } from './resource-cache.ts';
import type { FlavorSnapshot } from './snapshot.ts';
import type { NodeInfo, StreamHost, StreamLimits } from './stream-host.ts';
import { REFERRED_BY, REFERS_TO, retainedResources, routesAwaitClusters, sameRefs } from './make-before-break.ts';
import { TypeState, ackedOf, rejectedIndexes } from './stream-state.ts';
import { PUSH_ORDER, RESOURCE_TYPES, resourceTypeOf, type ResourceKind, type ResourceType } from './type-urls.ts';
import type { Decoded, NodeMessage, StatusMessage } from './wire.ts';
import { RequestAdmission } from './request-admission.ts';
import { admitNode } from './node-identity.ts';
import { peerIdentity, type PeerIdentity } from '../tls/peer-identity.ts';
import { TokenBucket } from './token-bucket.ts';

export type StreamKind = 'sotw' | 'delta';

/** Delta responses a stream tracks unanswered per type; past this a client that never answers loses its oldest. */
const MAX_IN_FLIGHT = 64;

/** What a push of one type sends: resources, and (delta, or SotW full-set deletions) names removed. */
export interface PushPlan {
  resources: EncodedResource[];
  removed: string[];
}

export abstract class AdsStream {
  abstract readonly kind: StreamKind;
  /**
   * State of the world: a response supersedes the unanswered one before it, and a request
   * whose nonce is not the newest sent for its type is stale and not acted on.
   */
  protected abstract readonly supersedes: boolean;
  readonly id: number;
  readonly peer: string;
  /** Over TLS (the client certificate, when asked for, is #peerIdentity). */
  readonly #secure: boolean;
  readonly #peerIdentity: PeerIdentity | undefined;
  readonly openedAt: number;
  node: NodeInfo | undefined;
  protected readonly host: StreamHost<AdsStream>;
  protected readonly states = new Map<ResourceKind, TypeState>();
  readonly #byOrder: (TypeState | undefined)[] = [];
  protected log: Logger;
  readonly #call: ServerDuplexStream<Decoded<unknown>, Buffer>;
  readonly #admission: RequestAdmission;
  readonly #limits: StreamLimits;
  #blocked = false;
  #closed = false;
  #nonce = 0;
  #unknownTypes = new Set<string>();
  #holdTimer: Promise<void> | undefined;

  constructor(host: StreamHost<AdsStream>, call: ServerDuplexStream<Decoded<unknown>, Buffer>, id: number, limits: StreamLimits) {
    this.host = host;
    this.#call = call;
    this.id = id;
    this.#limits = limits;
    this.peer = safePeer(call);
    const { transportSecurityType, sslPeerCertificate } = call.getAuthContext();
    [this.#secure, this.#peerIdentity] = [transportSecurityType === 'ssl', sslPeerCertificate ? peerIdentity(sslPeerCertificate) : undefined];
    this.openedAt = host.clock.now();
    this.#admission = new RequestAdmission(new TokenBucket(limits.requestBurst, limits.requestsPerSecond, host.clock), limits.requestsPerSecond, (r) => this.reject(r));
    this.log = host.logger.child({ stream: id, peer: this.peer });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The stream's state for `kind`, if the node ever asked for that type. */
  state(kind: ResourceKind): TypeState | undefined {
    return this.states.get(kind);
  }

  /** The stream's state for the type at `order` in PUSH_ORDER (the fast path of state()). */
  stateAt(order: number): TypeState | undefined {
    return this.#byOrder[order];
  }

  /** Types the node asked for, in push order. */
  typeStates(): TypeState[] {
    return PUSH_ORDER.map((t) => this.states.get(t.kind)).filter((s): s is TypeState => s !== undefined);
  }

  start(): void {
    this.host.metrics.streams.inc({ kind: this.kind });
    if (!this.#secure) this.host.metrics.plaintextStreams.inc({ kind: this.kind });
    this.host.metrics.activeStreams.inc({ kind: this.kind });
    this.#call.on('data', (d: Decoded<unknown>) => this.#onData(d));
    this.#call.on('end', () => this.end());
    this.#call.on('cancelled', () => this.#cleanup('cancelled'));
    this.#call.on('error', () => this.#cleanup('error'));
    this.#call.on('close', () => this.#cleanup('closed'));
    this.log.debug({ kind: this.kind }, 'ADS stream opened');
  }

  /** Ends the stream with OK (the client reconnects when it wants). Idempotent. */
  end(): void {
    if (!this.#closed) {
      try {
        this.#call.end();
      } catch {
        // already ending
      }
    }
    this.#cleanup('ended');
  }

  /** Ends the stream with an error status. */
  protected fail(code: status, details: string): void {
    if (this.#closed) return;
    try {
      this.#call.emit('error', { code, details });
    } catch {
      // already ending
    }
    this.#cleanup('failed');
  }

  #cleanup(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.host.metrics.activeStreams.dec({ kind: this.kind });
    this.log.debug({ reason }, 'ADS stream closed');
    this.host.closed(this);
  }

  protected reject(reason: RejectReason): void {
    this.host.metrics.rejected.inc({ reason });
  }

  #onData(d: Decoded<unknown>): void {
    if (this.#closed) return;
    const admitted = this.#admission.admit(d, this.log, this.node?.id);
    if (!admitted) return;
    try {
      this.handle(admitted.message);
    } catch (e) {
      this.log.error({ err: e, node: this.node?.id }, 'xDS request handling failed');
    }
  }

  /** Reads one decoded request. */
  protected abstract handle(message: unknown): void;

  /** Decides what to send for `st` given what it should hold; undefined when nothing. */
  protected abstract plan(st: TypeState, desired: ReadonlyMap<string, EncodedResource>): PushPlan | undefined;

  /** Encodes the response for `plan`. */
  protected abstract encode(st: TypeState, plan: PushPlan, version: string, nonce: string): Buffer;

  /** Records that `plan` was sent. */
  protected abstract recordSent(st: TypeState, plan: PushPlan): void;

  /**
   * Learns the node from the first request. A stream whose first request names no node is
   * ended with INVALID_ARGUMENT. Returns false when the stream cannot go on.
   */
  protected identify(node: NodeMessage | null): boolean {
    if (this.node) return true;
    if (!node?.id) {
      this.reject(REJECT_REASONS.NO_NODE);
      this.log.warn('xDS stream sent no node id in its first request: ended');
      this.fail(status.INVALID_ARGUMENT, 'the first discovery request must carry node.id');
      return false;
    }
    const admission = admitNode(node, this.#peerIdentity);
    if (!admission.admitted) return this.#refuse(node.id, admission.reason, admission.message);
    this.node = {
      id: node.id,
      cluster: node.cluster ?? '',
      userAgent: node.user_agent_name ?? '',
      flavor: flavorOf(node.user_agent_name),
      ...(admission.identity ? { identity: admission.identity } : {}),
      ...(admission.scope ? { scope: admission.scope } : {}),
    };
    this.log = this.log.child({ node: node.id, ...(admission.identity ? { identity: admission.identity } : {}) });
    if (this.host.identified(this)) return true;
    this.node = undefined;
    return this.#refuse(node.id, REJECT_REASONS.IDENTITY_MISMATCH, `node.id "${node.id}" is connected under another client certificate identity`);
  }

  /** Ends the stream with PERMISSION_DENIED: the node may not have what it asks for. Returns false. */
  #refuse(nodeId: string, reason: RejectReason, message: string): false {
    this.reject(reason);
    this.log.warn({ nodeId, reason }, `xDS stream refused: ${message}`);
    this.fail(status.PERMISSION_DENIED, message);
    return false;
  }

  /**
   * What every request does first, in either protocol: learn the node, find the type, and
   * apply the client's answer (ACK/NACK) to our last response — the answer before the
   * subscription change, since it is about what was sent before, and a request carrying a
   * NACK still updates what the client wants. Undefined when the request must be dropped.
   */
  protected begin(req: {
    node: NodeMessage | null;
    type_url: string;
    response_nonce: string;
    error_detail: StatusMessage | null;
  }): { st: TypeState; first: boolean } | undefined {
    if (!this.identify(req.node)) return undefined;
    const type = this.typeFor(req.type_url);
    if (!type) return undefined;
    const st = this.stateFor(type);
    if (this.supersedes && req.response_nonce && st.lastNonce !== undefined && req.response_nonce !== st.lastNonce) {
      // The xDS protocol: a server does not respond to a request with a stale nonce. The
      // client will answer the newer response with its whole subscription, so nothing is lost.
      this.reject(REJECT_REASONS.STALE_NONCE);
      this.log.debug({ type: type.kind, nonce: req.response_nonce, newest: st.lastNonce }, 'xDS request with a stale nonce: ignored');
      return undefined;
    }
    const first = !st.requested;
    st.requested = true;
    if (req.response_nonce) this.answer(st, req.response_nonce, req.error_detail);
    return { st, first };
  }

  /** The served type for `typeUrl`, or undefined (logged once per stream, counted every time). */
  protected typeFor(typeUrl: string): ResourceType | undefined {
    const type = resourceTypeOf(typeUrl);
    if (type) return type;
    this.reject(REJECT_REASONS.UNKNOWN_TYPE);
    if (!this.#unknownTypes.has(typeUrl) && this.#unknownTypes.size < 16) {
      this.#unknownTypes.add(typeUrl);
      this.log.warn({ typeUrl }, 'xDS request for a resource type meshpilot does not serve: not answered');
    }
    return undefined;
  }

  protected stateFor(type: ResourceType): TypeState {
    let st = this.states.get(type.kind);
    if (!st) {
      st = new TypeState(type);
      this.states.set(type.kind, st);
      this.#byOrder[type.order] = st;
    }
    return st;
  }

  /** Names without "*" on a type that has no wildcard (counted and logged). */
  protected dropStar(type: ResourceType, names: string[]): string[] {
    if (type.wildcard || !names.includes('*')) return names;
    this.reject(REJECT_REASONS.WILDCARD_NOT_ALLOWED);
    this.log.warn({ type: type.kind }, 'wildcard subscription to a type that has none: "*" ignored');
    return names.filter((n) => n !== '*');
  }

  protected intern(name: string): string {
    return this.host.intern(name);
  }

  /**
   * Applies the client's answer to the response of `st` sent with `nonce` (ACK when `error`
   * is null); responses sent before it and never answered are forgotten. An answer to a
   * response that is not in flight (superseded, or already answered) is ignored. Returns
   * true when it applied.
   */
  protected answer(st: TypeState, nonce: string, error: StatusMessage | null): boolean {
    const index = st.inFlight.findIndex((o) => o.nonce === nonce);
    if (index < 0) {
      if (nonce) this.log.debug({ type: st.type.kind, nonce, inFlight: st.inFlight.map((o) => o.nonce) }, 'answer to an xDS response no longer in flight: ignored');
      return false;
    }
    const out = st.inFlight[index]!;
    st.inFlight.splice(0, index + 1);
    const kind = st.type.kind;
    const isNack = error !== null && (error.code !== 0 || error.message !== '');
    const target = REFERS_TO[kind];
    const heldBefore = target ? out.resources.map((r) => ackedOf(st.entries.get(r.name))) : [];
    const message = isNack ? error.message || `status ${error.code}` : '';
    const perResource = this.node !== undefined && CAPABILITIES[this.node.flavor].perResourceNack;
    const nack = isNack ? { message, rejected: rejectedIndexes(message, out.resources.length, perResource) } : undefined;
    this.host.answered(this, out.resources, () => st.recordAnswer(out, nack));
    if (isNack) {
      this.host.metrics.nacks.inc({ type: kind });
      this.log.warn({ type: kind, version: out.version, nonce, error: error.message, code: error.code }, 'xDS client rejected (NACKed) a response; it keeps its last accepted config');
    } else {
      this.host.metrics.acks.inc({ type: kind });
    }
    // An ACKed resource that no longer points at something may release it (make-before-break).
    if (target && out.resources.some((r, i) => !sameRefs(heldBefore[i]?.refs, ackedOf(st.entries.get(r.name))?.refs))) this.markDirty(target);
    return true;
  }

  markDirty(kind: ResourceKind): void {
    const st = this.states.get(kind);
    if (st) st.dirty = true;
  }

  /** The snapshot changed these names per type: mark the types that carry any of them. */
  onSnapshot(changed: ReadonlyMap<ResourceKind, ReadonlySet<string>>): void {
    for (const st of this.states.values()) {
      const names = changed.get(st.type.kind);
      if (!names || names.size === 0) continue;
      if (st.wildcard) st.dirty = true;
      else if (names.size <= st.entries.size) {
        for (const n of names) if (st.entries.has(n)) { st.dirty = true; break; }
      } else {
        for (const n of st.entries.keys()) if (names.has(n)) { st.dirty = true; break; }
      }
    }
    this.push();
  }

  /** Sends what every dirty type needs, in make-before-break order. */
  push(): void {
    if (this.#closed || this.#blocked || !this.node || !this.host.loaded()) return;
    const snapshot = this.host.snapshot(this.node.flavor, this.node.scope);
    for (const type of PUSH_ORDER) {
      const st = this.states.get(type.kind);
      if (!st || !st.requested || !st.dirty) continue;
      st.dirty = false;
      this.#pushType(st, snapshot);
      if (this.#blocked || this.#closed) return;
    }
  }

  #pushType(st: TypeState, snapshot: FlavorSnapshot): void {
    const current = snapshot.resources.get(st.type.kind)!;
    const desired = new Map<string, EncodedResource>();
    if (st.wildcard) for (const [name, r] of current) desired.set(name, r);
    else for (const name of st.entries.keys()) {
      const r = current.get(name);
      if (r) desired.set(name, r);
    }
    const parentKind = REFERRED_BY[st.type.kind];
    for (const [name, r] of retainedResources(st, parentKind ? this.states.get(parentKind) : undefined, current)) if (!desired.has(name)) desired.set(name, r);
    const plan = this.plan(st, desired);
    if (!plan) return;
    if (st.type === RESOURCE_TYPES.RDS && this.#mustHoldRoutes(st, plan, snapshot)) return;
    const nonce = String(++this.#nonce);
    const buf = this.encode(st, plan, snapshot.version, nonce);
    this.recordSent(st, plan);
    // What a removed resource pointed at may be removable now.
    const target = REFERS_TO[st.type.kind];
    if (plan.removed.length > 0 && target) this.markDirty(target);
    const sent = { nonce, version: snapshot.version, resources: plan.resources, deleted: this.kind === 'sotw' ? plan.removed : [] };
    if (this.supersedes) st.inFlight = [sent];
    else if (st.inFlight.push(sent) > MAX_IN_FLIGHT) st.inFlight.shift();
    st.lastNonce = nonce;
    st.sentVersion = snapshot.version;
    st.forceRespond = false;
    this.host.metrics.pushes.inc({ type: st.type.kind });
    this.host.metrics.bytesSent.inc(buf.length);
    if (!this.#call.write(buf)) {
      this.#blocked = true;
      this.#call.once('drain', () => {
        this.#blocked = false;
        this.push();
      });
    }
  }

  /**
   * Envoy only: hold a route table back while a cluster it uses was not yet sent with its
   * endpoints (a route to a cluster Envoy has not warmed fails). Bounded by holdRoutesMs.
   */
  #mustHoldRoutes(st: TypeState, plan: PushPlan, snapshot: FlavorSnapshot): boolean {
    if (!this.node || !CAPABILITIES[this.node.flavor].holdRoutesUntilClustersSent) return false;
    const cds = this.states.get('CDS');
    const eds = this.states.get('EDS');
    if (!cds?.requested) return false;
    const waiting = routesAwaitClusters(plan.resources, cds, eds, snapshot);
    const now = this.host.clock.now();
    if (!waiting) {
      st.holdingSince = undefined;
      return false;
    }
    st.holdingSince ??= now;
    if (now - st.holdingSince >= this.#limits.holdRoutesMs) {
      this.log.warn({ waitedMs: now - st.holdingSince }, 'sending the route table before all its clusters were sent: the node did not ask for their endpoints');
      st.holdingSince = undefined;
      return false;
    }
    st.dirty = true;
    if (!this.#holdTimer) {
      this.#holdTimer = this.host.clock.sleep(this.#limits.holdRoutesMs).then(() => {
        this.#holdTimer = undefined;
        this.push();
      });
    }
    return true;
  }
}

function safePeer(call: ServerDuplexStream<unknown, unknown>): string {
  try {
    return call.getPeer();
  } catch {
    return 'unknown';
  }
}
