// The xDS server's metrics, registered on the injected registry. A second server on the same
// registry (a restart inside one process) reuses the metrics already there.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../base/metrics.ts';

/** Why a request was refused: the `reason` label of meshpilot_xds_requests_rejected_total. */
export const REJECT_REASONS = {
  MALFORMED: 'malformed',
  OVERSIZED: 'oversized',
  UNKNOWN_TYPE: 'unknown_type',
  RATE_LIMITED: 'rate_limited',
  NO_NODE: 'no_node',
  WILDCARD_NOT_ALLOWED: 'wildcard_not_allowed',
  /** State of the world: a request answering a response older than the newest one sent for its type. */
  STALE_NONCE: 'stale_nonce',
  /** mTLS: the client certificate carries no SPIFFE ID. */
  NO_IDENTITY: 'no_identity',
  /** mTLS: the node claims an identity or namespace its certificate does not have. */
  IDENTITY_MISMATCH: 'identity_mismatch',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];


export class XdsMetrics {
  readonly connectedNodes: Gauge<'flavor'>;
  readonly activeStreams: Gauge<'kind'>;
  readonly streams: Counter<'kind'>;
  readonly plaintextStreams: Counter<'kind'>;
  readonly pushes: Counter<'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly pushLatency: Histogram;
  readonly snapshots: Counter;
  readonly snapshotResources: Gauge<'flavor' | 'type'>;
  readonly bytesSent: Counter;
  readonly rejected: Counter<'reason'>;

  constructor(registry: Registry) {
    this.connectedNodes = gauge(registry, { name: 'meshpilot_xds_connected_nodes', help: 'Nodes with at least one open ADS stream, by flavour.', labelNames: ['flavor'] });
    this.activeStreams = gauge(registry, { name: 'meshpilot_xds_active_streams', help: 'Open ADS streams, by kind (sotw, delta).', labelNames: ['kind'] });
    this.streams = counter(registry, { name: 'meshpilot_xds_streams_total', help: 'ADS streams opened, by kind (sotw, delta).', labelNames: ['kind'] });
    this.plaintextStreams = counter(registry, {
      name: 'meshpilot_xds_plaintext_streams_total',
      help: 'ADS streams opened without TLS (unauthenticated, in the clear), by kind; on a TLS-only server this stays 0.',
      labelNames: ['kind'],
    });
    this.pushes = counter(registry, { name: 'meshpilot_xds_pushes_total', help: 'Discovery responses sent, by resource type (LDS, RDS, CDS, EDS).', labelNames: ['type'] });
    this.acks = counter(registry, { name: 'meshpilot_xds_acks_total', help: 'Discovery responses ACKed, by resource type.', labelNames: ['type'] });
    this.nacks = counter(registry, { name: 'meshpilot_xds_nacks_total', help: 'Discovery responses NACKed, by resource type.', labelNames: ['type'] });
    this.pushLatency = histogram(registry, {
      name: 'meshpilot_xds_push_latency_seconds',
      help: 'From the publish of a route intent to a node ACKing everything it needs of it (one sample per node and answer).',
      labelNames: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.snapshots = counter(registry, { name: 'meshpilot_xds_snapshots_total', help: 'Snapshots built (each a new version).', labelNames: [] });
    this.snapshotResources = gauge(registry, { name: 'meshpilot_xds_snapshot_resources', help: 'Resources in the served snapshot, by flavour and type.', labelNames: ['flavor', 'type'] });
    this.bytesSent = counter(registry, { name: 'meshpilot_xds_bytes_sent_total', help: 'Bytes of discovery responses sent (serialized messages).', labelNames: [] });
    this.rejected = counter(registry, { name: 'meshpilot_xds_requests_rejected_total', help: 'Discovery requests refused or ignored, by reason.', labelNames: ['reason'] });
  }

}
