// Which nodes hold which version of each route: the source of RouteSyncStatus (the
// AdaptiveRoute's XdsSynced condition), of the publish-to-ACK latency metric, and of the
// change notifications the controller listens to. Computed from the streams' own records on
// demand, so it costs no memory per (node, route).
import type { Clock } from '../base/clock.ts';
import type { AdsStream } from './ads-stream.ts';
import type { NodeInfo } from './stream-host.ts';
import { flavorNote, type NodeFlavor } from './capabilities.ts';
import type { XdsMetrics } from './metrics.ts';
import type { EncodedResource } from './resource-cache.ts';
import type { OutputSyncStatus } from '../routing/sync-status.ts';
import type { FlavorSnapshot, RequiredResource } from './snapshot.ts';
import { ackedOf, nackMessageOf, nackedOf } from './stream-state.ts';
import type { ResourceKind } from './type-urls.ts';

/** A route's sync state, in the shape the controller reads (operator/routing/sync-status.ts). */
export type RouteSyncStatus = OutputSyncStatus;

export interface NodeRecord extends NodeInfo {
  connectedAt: number;
  streams: Set<AdsStream>;
}

export interface RouteVersion {
  version: string;
  fingerprint: string;
  /** When the change that produced this version was published. */
  since: number;
}

/** A node's state for a route, ordered so that combining streams is taking the maximum. */
const NONE = 0;
const ACKED = 1;
const PENDING = 2;
const NACKED = 3;
type Code = typeof NONE | typeof ACKED | typeof PENDING | typeof NACKED;

/**
 * What an answer's routes were before it applied. Per affected route: its key, requirements,
 * code before, and with a single stream the code of its other resources and the indexes of the
 * answered ones, flattened: mineIdx[mineStart[i] .. mineStart[i + 1]).
 */
interface AnswerScan {
  node: NodeRecord;
  stream: AdsStream;
  kind: ResourceKind;
  answered: Set<string>;
  single: boolean;
  keys: string[];
  reqs: (readonly RequiredResource[])[];
  rests: Code[];
  befores: Code[];
  mineIdx: number[];
  mineStart: number[];
}

const MAX_NACK_MESSAGES = 10;

function maxCode(a: Code, b: Code): Code {
  return a > b ? a : b;
}

function partOf(res: EncodedResource, key: string): string {
  return res.routeParts?.get(key) ?? res.version;
}

export class SyncTracker {
  readonly nodes = new Map<string, NodeRecord>();
  readonly routeVersions = new Map<string, RouteVersion>();
  readonly #listeners = new Set<(routeKey: string) => void>();
  readonly #snapshot: (flavor: NodeFlavor, scope?: string) => FlavorSnapshot;
  readonly #metrics: XdsMetrics;
  readonly #clock: Clock;
  readonly #onListenerError: (e: unknown) => void;

  constructor(deps: { snapshot: (flavor: NodeFlavor, scope?: string) => FlavorSnapshot; metrics: XdsMetrics; clock: Clock; onListenerError: (e: unknown) => void }) {
    this.#snapshot = deps.snapshot;
    this.#metrics = deps.metrics;
    this.#clock = deps.clock;
    this.#onListenerError = deps.onListenerError;
  }

  onChange(listener: (routeKey: string) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Reports that `routeKey`'s status may have changed. Reports are batched: each key reaches
   * the listeners once per turn of the event loop, however many nodes ACKed it meanwhile.
   */
  emit(routeKey: string): void {
    if (this.#listeners.size === 0) return;
    this.#pending.add(routeKey);
    if (this.#pending.size === 1) setImmediate(() => this.#deliver());
  }

  readonly #pending = new Set<string>();

  #deliver(): void {
    const keys = [...this.#pending];
    this.#pending.clear();
    for (const key of keys) {
      for (const l of [...this.#listeners]) {
        try {
          l(key);
        } catch (e) {
          this.#onListenerError(e);
        }
      }
    }
  }

  /**
   * Adds an identified stream to its node. Returns false, adding nothing, when a node of that
   * id is connected under another client certificate identity: one node id is one identity.
   */
  addStream(stream: AdsStream): boolean {
    const info = stream.node!;
    let node = this.nodes.get(info.id);
    if (node && node.identity !== info.identity) return false;
    if (!node) {
      node = { ...info, connectedAt: this.#clock.now(), streams: new Set() };
      this.nodes.set(info.id, node);
      this.#metrics.connectedNodes.inc({ flavor: node.flavor });
    }
    node.streams.add(stream);
    return true;
  }

  removeStream(stream: AdsStream): void {
    const node = stream.node ? this.nodes.get(stream.node.id) : undefined;
    if (!node || !node.streams.has(stream)) return;
    const snapshot = this.#snapshot(node.flavor, node.scope);
    const before = new Map<string, Code>();
    for (const [key, req] of snapshot.required) {
      if (this.#streamCode(stream, key, req) !== NONE) before.set(key, this.#nodeCode(node, key, req));
    }
    node.streams.delete(stream);
    if (node.streams.size === 0) {
      this.nodes.delete(node.id);
      this.#metrics.connectedNodes.dec({ flavor: node.flavor });
    }
    for (const [key, code] of before) {
      const after = node.streams.size === 0 ? NONE : this.#nodeCode(node, key, snapshot.required.get(key)!);
      if (after !== code) this.emit(key);
    }
  }

  /**
   * Applies a client's answer through `apply` and reports the routes whose status it changed
   * (and the publish-to-ACK latency of those it brought in sync). Only the answered resources
   * change, so each affected route is scanned once in full and its answered resources twice.
   */
  answered(stream: AdsStream, resources: readonly EncodedResource[], apply: () => void): void {
    const node = stream.node ? this.nodes.get(stream.node.id) : undefined;
    const first = resources[0];
    if (!node || !first) {
      apply();
      return;
    }
    const scan = this.#scanBefore(node, stream, resources, first.type.kind);
    apply();
    this.#reportAfter(scan);
  }

  /** The routes an answer of `resources` can change, and their codes before it applies. */
  #scanBefore(node: NodeRecord, stream: AdsStream, resources: readonly EncodedResource[], kind: ResourceKind): AnswerScan {
    const snapshot = this.#snapshot(node.flavor, node.scope);
    let shared = false;
    const keySet = new Set<string>();
    const answered = new Set<string>();
    for (const r of resources) {
      answered.add(r.name);
      if (r.routeKey === undefined) shared = true;
      else keySet.add(r.routeKey);
    }
    const scan: AnswerScan = { node, stream, kind, answered, single: node.streams.size === 1, keys: [], reqs: [], rests: [], befores: [], mineIdx: [], mineStart: [] };
    if (shared) for (const [key, req] of snapshot.required) this.#visit(scan, key, req);
    else
      for (const key of keySet) {
        const req = snapshot.required.get(key);
        if (req) this.#visit(scan, key, req);
      }
    scan.mineStart.push(scan.mineIdx.length);
    return scan;
  }

  /** Records route `key` (requiring `req`) in the scan, unless the answer cannot change it. */
  #visit(s: AnswerScan, key: string, req: readonly RequiredResource[]): void {
    if (!s.single) {
      s.keys.push(key);
      s.reqs.push(req);
      s.rests.push(NONE);
      s.befores.push(this.#nodeCode(s.node, key, req));
      return;
    }
    const root = req[0];
    if (!root || !s.stream.stateAt(root.type.order)?.subscribes(root.name)) return;
    // The answered resources of this route; if the stream already held all of them at their
    // current part, the answer changes nothing for the route.
    const from = s.mineIdx.length;
    let mineBefore: Code = NONE;
    for (let j = 0; j < req.length; j++) {
      const r = req[j]!;
      if (r.type.kind !== s.kind || !s.answered.has(r.name)) continue;
      s.mineIdx.push(j);
      mineBefore = maxCode(mineBefore, this.#resourceCode(s.stream, key, r));
    }
    const to = s.mineIdx.length;
    if (to === from || mineBefore === ACKED) {
      s.mineIdx.length = from;
      return;
    }
    let rest: Code = ACKED;
    let m = from;
    for (let j = 0; j < req.length && rest !== NACKED; j++) {
      if (m < to && s.mineIdx[m] === j) {
        m++;
        continue;
      }
      const c = this.#resourceCode(s.stream, key, req[j]!);
      if (c > rest) rest = c;
    }
    s.mineStart.push(from);
    s.keys.push(key);
    s.reqs.push(req);
    s.rests.push(rest);
    s.befores.push(maxCode(rest, mineBefore));
  }

  /** Emits the routes whose code the answer changed, and one push-latency sample. */
  #reportAfter(s: AnswerScan): void {
    // One latency sample per answer: from the earliest publish among the routes it brought
    // in sync (a push of 1,000 routes to a node is one push, not 1,000).
    let since: number | undefined;
    for (let i = 0; i < s.keys.length; i++) {
      const key = s.keys[i]!;
      const req = s.reqs[i]!;
      let after: Code;
      if (!s.single) after = this.#nodeCode(s.node, key, req);
      else {
        after = s.rests[i]!;
        for (let m = s.mineStart[i]!, end = s.mineStart[i + 1]!; m < end && after !== NACKED; m++) after = maxCode(after, this.#resourceCode(s.stream, key, req[s.mineIdx[m]!]!));
      }
      if (after === s.befores[i]) continue;
      if (after === ACKED) {
        const rv = this.routeVersions.get(key);
        if (rv && s.node.connectedAt <= rv.since && (since === undefined || rv.since < since)) since = rv.since;
      }
      this.emit(key);
    }
    if (since !== undefined) this.#metrics.pushLatency.observe(Math.max(0, this.#clock.now() - since) / 1000);
  }

  /** The sync state of `routeKey`; `limits` says what a node of a flavour cannot do of the route (status.xds.notes). */
  status(routeKey: string, limits: (flavor: NodeFlavor) => readonly string[] = () => []): RouteSyncStatus {
    const result: RouteSyncStatus = { version: this.routeVersions.get(routeKey)?.version, nodes: 0, acked: 0, nacked: 0, pending: 0, nackMessages: [], notes: [] };
    if (result.version === undefined) return result;
    const messages = new Set<string>();
    const byFlavor = new Map<NodeFlavor, number>();
    for (const node of this.nodes.values()) {
      const req = this.#snapshot(node.flavor, node.scope).required.get(routeKey);
      if (!req) continue;
      const code = this.#nodeCode(node, routeKey, req);
      if (code === NONE) continue;
      result.nodes += 1;
      byFlavor.set(node.flavor, (byFlavor.get(node.flavor) ?? 0) + 1);
      if (code === ACKED) result.acked += 1;
      else if (code === PENDING) result.pending += 1;
      else {
        result.nacked += 1;
        for (const stream of node.streams) {
          const message = this.#nackMessage(stream, routeKey, req);
          if (message && messages.size < MAX_NACK_MESSAGES) messages.add(message);
        }
      }
    }
    result.nackMessages = [...messages];
    for (const [flavor, count] of [...byFlavor].sort(([a], [b]) => (a < b ? -1 : 1))) for (const limit of limits(flavor)) result.notes.push(flavorNote(flavor, count, limit));
    return result;
  }

  #nodeCode(node: NodeRecord, key: string, req: readonly RequiredResource[]): Code {
    let code: Code = NONE;
    for (const stream of node.streams) {
      const c = this.#streamCode(stream, key, req);
      if (c > code) code = c;
    }
    return code;
  }

  /** NONE when the stream does not use the route (not subscribed to its listener). */
  #streamCode(stream: AdsStream, key: string, req: readonly RequiredResource[]): Code {
    const root = req[0];
    if (!root || !stream.state(root.type.kind)?.subscribes(root.name)) return NONE;
    let code: Code = ACKED;
    for (const r of req) {
      const c = this.#resourceCode(stream, key, r);
      if (c === NACKED) return NACKED;
      if (c > code) code = c;
    }
    return code;
  }

  /** Whether the stream holds `r` at the route's current part (ACKED), rejected it (NACKED), or neither (PENDING). */
  #resourceCode(stream: AdsStream, key: string, r: RequiredResource): Code {
    const e = stream.stateAt(r.type.order)?.entries.get(r.name);
    const acked = ackedOf(e);
    if (acked !== null && partOf(acked, key) === r.part) return ACKED;
    const nacked = nackedOf(e);
    if (nacked !== null && partOf(nacked, key) === r.part) return NACKED;
    return PENDING;
  }

  #nackMessage(stream: AdsStream, key: string, req: readonly RequiredResource[]): string | undefined {
    for (const r of req) {
      const e = stream.state(r.type.kind)?.entries.get(r.name);
      const acked = ackedOf(e);
      if (acked !== null && partOf(acked, key) === r.part) continue;
      const nacked = nackedOf(e);
      if (nacked !== null && partOf(nacked, key) === r.part) return nackMessageOf(e);
    }
    return undefined;
  }
}
