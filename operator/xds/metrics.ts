// The xDS server's metrics, registered on the injected registry. A second server on the same
// registry (a restart inside one process) reuses the metrics already there.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a request was refused: the `reason` label of meshpilot_xds_requests_rejected_total. */
export const REJECT_REASONS = {
  MALFORMED: 'malformed',
  OVERSIZED: 'oversized',
  UNKNOWN_TYPE: 'unknown_type',
  RATE_LIMITED: 'rate_limited',
  NO_NODE: 'no_node',
  WILDCARD_NOT_ALLOWED: 'wildcard_not_allowed',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];

function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export class XdsMetrics {
  readonly connectedNodes: Gauge<'flavor'>;
  readonly activeStreams: Gauge<'kind'>;
  readonly streams: Counter<'kind'>;
  readonly pushes: Counter<'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  readonly pushLatency: Histogram;
  readonly snapshots: Counter;
  readonly snapshotResources: Gauge<'flavor' | 'type'>;
  readonly bytesSent: Counter;
  readonly rejected: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connectedNodes = reuse(registry, 'meshpilot_xds_connected_nodes', () => new Gauge({ name: 'meshpilot_xds_connected_nodes', help: 'Nodes with at least one open ADS stream, by flavour.', labelNames: ['flavor'], registers }));
    this.activeStreams = reuse(registry, 'meshpilot_xds_active_streams', () => new Gauge({ name: 'meshpilot_xds_active_streams', help: 'Open ADS streams, by kind (sotw, delta).', labelNames: ['kind'], registers }));
    this.streams = reuse(registry, 'meshpilot_xds_streams_total', () => new Counter({ name: 'meshpilot_xds_streams_total', help: 'ADS streams opened, by kind (sotw, delta).', labelNames: ['kind'], registers }));
    this.pushes = reuse(registry, 'meshpilot_xds_pushes_total', () => new Counter({ name: 'meshpilot_xds_pushes_total', help: 'Discovery responses sent, by resource type (LDS, RDS, CDS, EDS).', labelNames: ['type'], registers }));
    this.acks = reuse(registry, 'meshpilot_xds_acks_total', () => new Counter({ name: 'meshpilot_xds_acks_total', help: 'Discovery responses ACKed, by resource type.', labelNames: ['type'], registers }));
    this.nacks = reuse(registry, 'meshpilot_xds_nacks_total', () => new Counter({ name: 'meshpilot_xds_nacks_total', help: 'Discovery responses NACKed, by resource type.', labelNames: ['type'], registers }));
    this.pushLatency = reuse(registry, 'meshpilot_xds_push_latency_seconds', () => new Histogram({
      name: 'meshpilot_xds_push_latency_seconds',
      help: 'From the publish of a route intent to a node ACKing everything it needs of it (one sample per node and answer).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }));
    this.snapshots = reuse(registry, 'meshpilot_xds_snapshots_total', () => new Counter({ name: 'meshpilot_xds_snapshots_total', help: 'Snapshots built (each a new version).', registers }));
    this.snapshotResources = reuse(registry, 'meshpilot_xds_snapshot_resources', () => new Gauge({ name: 'meshpilot_xds_snapshot_resources', help: 'Resources in the served snapshot, by flavour and type.', labelNames: ['flavor', 'type'], registers }));
    this.bytesSent = reuse(registry, 'meshpilot_xds_bytes_sent_total', () => new Counter({ name: 'meshpilot_xds_bytes_sent_total', help: 'Bytes of discovery responses sent (serialized messages).', registers }));
    this.rejected = reuse(registry, 'meshpilot_xds_requests_rejected_total', () => new Counter({ name: 'meshpilot_xds_requests_rejected_total', help: 'Discovery requests refused or ignored, by reason.', labelNames: ['reason'], registers }));
  }
}
