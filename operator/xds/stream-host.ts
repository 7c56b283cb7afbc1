// What an ADS stream needs from the server that runs it (StreamHost), what it learns of its
// node, and the limits it enforces: the ports between ads-stream.ts and server.ts.
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import type { NodeFlavor } from './capabilities.ts';
import type { XdsMetrics } from './metrics.ts';
import type { EncodedResource } from './resource-cache.ts';
import type { FlavorSnapshot } from './snapshot.ts';

export interface NodeInfo {
  id: string;
  cluster: string;
  userAgent: string;
  flavor: NodeFlavor;
  /** mTLS: the SPIFFE ID of the node's client certificate. */
  identity?: string;
  /** mTLS: the namespace whose routes the node sees (its certificate's); absent: every route. */
  scope?: string;
}

/** What a stream needs from the server; `S` is the stream (AdsStream), passed back as itself. */
export interface StreamHost<S> {
  readonly metrics: XdsMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What a node of `flavor` sees: every route, or those of namespace `scope`. */
  snapshot(flavor: NodeFlavor, scope?: string): FlavorSnapshot;
  /** False while the server holds every response back (XdsServerOptions.holdUntilLoaded). */
  loaded(): boolean;
  /** The snapshot's own copy of `name` when it has one (one string per name, however many nodes subscribe). */
  intern(name: string): string;
  /** The stream learned its node (first request); false: the node id is taken by another identity. */
  identified(stream: S): boolean;
  /** The client answered a response carrying `resources`; `apply` records the answer. */
  answered(stream: S, resources: readonly EncodedResource[], apply: () => void): void;
  closed(stream: S): void;
}

export interface StreamLimits {
  /** Requests a stream may send in a burst... */
  requestBurst: number;
  /** ...and per second after it. */
  requestsPerSecond: number;
  /** Longest an Envoy route table waits for its new clusters to be sent. */
  holdRoutesMs: number;
}
