// What a node holds, in the spirit of Envoy's /config_dump and CSDS: per resource type, the
// subscription, the versions sent, ACKed and NACKed, and per resource its status with the
// ACKed resource decoded to JSON (and the rejected one's error).
import type { AdsStream } from './ads-stream.ts';
import type { NodeFlavor } from './capabilities.ts';
import type { XdsProtos } from './protos.ts';
import type { EncodedResource } from './resource-cache.ts';
import { ABSENT, PHANTOM, ackedOf, nackMessageOf, nackedOf, sentOf, type TypeState } from './stream-state.ts';
import type { NodeRecord } from './sync-tracker.ts';

export interface NodeSummary {
  id: string;
  cluster: string;
  userAgent: string;
  flavor: NodeFlavor;
  /** mTLS: the SPIFFE ID of its client certificate. */
  identity?: string;
  /** mTLS: the namespace whose routes it sees. */
  scope?: string;
  connectedAt: string;
  streams: number;
  resources: Record<string, { subscribed: string[] | '*'; sentVersion?: string; ackedVersion?: string; nackedVersion?: string; lastNack?: string }>;
}

/** Node `node` as `meshpilot xds nodes` shows it: who it is, and per type what it subscribes to and which versions it was sent, ACKed and NACKed. */
export function nodeSummary(node: NodeRecord): NodeSummary {
  const resources: NodeSummary['resources'] = {};
  for (const st of newestStream(node)?.typeStates() ?? []) {
    const entry: NodeSummary['resources'][string] = { subscribed: subscribedNames(st) };
    if (st.sentVersion !== undefined) entry.sentVersion = st.sentVersion;
    if (st.ackedVersion !== undefined) entry.ackedVersion = st.ackedVersion;
    if (st.nackedVersion !== undefined) entry.nackedVersion = st.nackedVersion;
    if (st.lastNack !== undefined) entry.lastNack = st.lastNack;
    resources[st.type.typeUrl] = entry;
  }
  return { ...nodeHeader(node), resources };
}

export type ResourceStatus = 'ACKED' | 'NACKED' | 'SENT' | 'REQUESTED' | 'DOES_NOT_EXIST';

export interface ResourceDump {
  name: string;
  status: ResourceStatus;
  /** Version (content hash) of the ACKed resource. */
  version?: string;
  /** Version of the resource sent last, when it differs from the ACKed one. */
  sentVersion?: string;
  /** The ACKed resource, decoded; `@type` names the message. */
  resource?: Record<string, unknown>;
  /** The rejected version and the client's message. */
  error?: { version: string; details: string };
}

export interface TypeDump {
  typeUrl: string;
  type: string;
  subscribed: string[] | '*';
  sentVersion?: string;
  ackedVersion?: string;
  nackedVersion?: string;
  lastNack?: string;
  resources: ResourceDump[];
}

export interface ConfigDump {
  node: { id: string; cluster: string; userAgent: string; flavor: string; connectedAt: string; streams: number };
  /** The snapshot version served to the node's flavour now. */
  snapshotVersion: string;
  /** The stream the configs are read from: the node's newest (a node normally has one). */
  stream: { id: number; kind: string; peer: string; openedAt: string };
  /** Per resource type the node asked for, in push order (CDS, EDS, LDS, RDS). */
  configs: TypeDump[];
}

/** The subscription of `st` as NodeSummary shows it. */
export function subscribedNames(st: TypeState): string[] | '*' {
  if (st.wildcard) return '*';
  return [...st.entries.keys()].sort();
}

function decode(protos: XdsProtos, res: EncodedResource): Record<string, unknown> {
  return { '@type': res.type.typeUrl, ...protos.toJson(res.type.message, res.body) };
}

function dumpType(st: TypeState, protos: XdsProtos): TypeDump {
  const resources: ResourceDump[] = [];
  for (const [name, e] of [...st.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const acked = ackedOf(e);
    const nacked = nackedOf(e);
    const sent = sentOf(e);
    const dump: ResourceDump = { name, status: 'REQUESTED' };
    if (e === ABSENT) dump.status = 'DOES_NOT_EXIST';
    else if (e === PHANTOM) dump.status = 'SENT';
    else if (nacked) dump.status = 'NACKED';
    else if (acked && acked === sent) dump.status = 'ACKED';
    else if (sent) dump.status = 'SENT';
    else if (acked) dump.status = 'ACKED';
    if (acked) {
      dump.version = acked.version;
      dump.resource = decode(protos, acked);
    }
    if (sent && sent !== acked) dump.sentVersion = sent.version;
    if (nacked) dump.error = { version: nacked.version, details: nackMessageOf(e) ?? '' };
    resources.push(dump);
  }
  const dump: TypeDump = { typeUrl: st.type.typeUrl, type: st.type.kind, subscribed: subscribedNames(st), resources };
  if (st.sentVersion !== undefined) dump.sentVersion = st.sentVersion;
  if (st.ackedVersion !== undefined) dump.ackedVersion = st.ackedVersion;
  if (st.nackedVersion !== undefined) dump.nackedVersion = st.nackedVersion;
  if (st.lastNack !== undefined) dump.lastNack = st.lastNack;
  return dump;
}

/** The newest stream of `node`. */
export function newestStream(node: NodeRecord): AdsStream | undefined {
  return [...node.streams].sort((a, b) => b.openedAt - a.openedAt || b.id - a.id)[0];
}

/** Who a node is, as `meshpilot xds nodes` and the config dump show it. */
export function nodeHeader(node: NodeRecord): Omit<NodeSummary, 'resources'> {
  return {
    id: node.id,
    cluster: node.cluster,
    userAgent: node.userAgent,
    flavor: node.flavor,
    ...(node.identity ? { identity: node.identity } : {}),
    ...(node.scope ? { scope: node.scope } : {}),
    connectedAt: new Date(node.connectedAt).toISOString(),
    streams: node.streams.size,
  };
}

export function configDump(node: NodeRecord, snapshotVersion: string, protos: XdsProtos): ConfigDump | undefined {
  const s = newestStream(node);
  if (!s) return undefined;
  return {
    node: nodeHeader(node),
    snapshotVersion,
    stream: { id: s.id, kind: s.kind, peer: s.peer, openedAt: new Date(s.openedAt).toISOString() },
    configs: s.typeStates().map((st) => dumpType(st, protos)),
  };
}
