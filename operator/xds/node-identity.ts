// Which configuration a node may have. Over mTLS a node is the SPIFFE ID of its client
// certificate, and it sees the routes of that ID's namespace only; what it claims in the
// request (node.id, Istio's NAMESPACE metadata, an Istio sidecar id) must agree with the
// certificate, or the stream is refused. Without a client certificate (plaintext, or TLS that
// does not ask for one) the node is unauthenticated and scoped by nothing: the operator chose
// that when it configured the channel.
import type { PeerIdentity } from '../tls/peer-identity.ts';
import { REJECT_REASONS, type RejectReason } from './metrics.ts';
import type { NodeMessage } from './wire.ts';

export type NodeAdmission =
  | { admitted: true; identity: string | undefined; scope: string | undefined }
  | { admitted: false; reason: RejectReason; message: string };

/** A protobuf Struct value decoded by protobufjs, either case. */
interface StructValue {
  stringValue?: string;
  string_value?: string;
}

function metadataString(node: NodeMessage, key: string): string | undefined {
  const fields = (node.metadata as { fields?: Record<string, StructValue> } | null | undefined)?.fields;
  const v = fields?.[key];
  return v?.stringValue ?? v?.string_value ?? undefined;
}

/** The namespace an Istio sidecar id claims: "sidecar~10.0.0.1~pod.namespace~namespace.svc.cluster.local". */
function istioNamespace(id: string): string | undefined {
  const parts = id.split('~');
  if (parts.length !== 4) return undefined;
  const dot = parts[2]!.lastIndexOf('.');
  return dot > 0 ? parts[2]!.slice(dot + 1) : undefined;
}

/** Whether `node`, connected as `peer` (undefined: no client certificate), may be served, and what it sees. */
export function admitNode(node: NodeMessage, peer: PeerIdentity | undefined): NodeAdmission {
  if (!peer) return { admitted: true, identity: undefined, scope: undefined };
  if (!peer.spiffe) {
    return {
      admitted: false,
      reason: REJECT_REASONS.NO_IDENTITY,
      message: `the client certificate (CN "${peer.subject}") carries no SPIFFE ID: a URI subjectAltName spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT is required`,
    };
  }
  const { uri, namespace } = peer.spiffe;
  const mismatch = (what: string): NodeAdmission => ({
    admitted: false,
    reason: REJECT_REASONS.IDENTITY_MISMATCH,
    message: `${what}, but the client certificate is ${uri}`,
  });
  if (node.id.startsWith('spiffe://') && node.id !== uri) return mismatch(`node.id claims ${node.id}`);
  const claimed = metadataString(node, 'NAMESPACE');
  if (claimed !== undefined && claimed !== namespace) return mismatch(`node.metadata.NAMESPACE claims namespace "${claimed}"`);
  const sidecar = istioNamespace(node.id);
  if (sidecar !== undefined && sidecar !== namespace) return mismatch(`node.id "${node.id}" claims namespace "${sidecar}"`);
  return { admitted: true, identity: uri, scope: namespace };
}
