// Who is on the other end of an mTLS connection: the SPIFFE ID in its certificate's URI
// subjectAltName (spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/SERVICE-ACCOUNT, the form Istio and
// SPIRE issue for Kubernetes workloads). A peer is what its certificate says, never what it
// claims in a request.
import type { PeerCertificate } from 'node:tls';

export interface SpiffeId {
  uri: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

const SPIFFE = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/sa\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;

/** The parts of a Kubernetes workload SPIFFE ID; undefined when `uri` is not one. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const m = SPIFFE.exec(uri);
  return m ? { uri, trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[4]! } : undefined;
}

/** The URIs of a certificate's subjectAltName, as Node renders it ("URI:spiffe://…, DNS:…"). */
export function sanUris(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

/** What a verified peer certificate says of its owner. */
export type PeerIdentity = { spiffe: SpiffeId } | { spiffe: undefined; subject: string; uris: string[] };

export function peerIdentity(cert: PeerCertificate): PeerIdentity {
  const uris = sanUris(cert.subjectaltname);
  for (const uri of uris) {
    const spiffe = parseSpiffeId(uri);
    if (spiffe) return { spiffe };
  }
  const cn = cert.subject?.CN;
  return { spiffe: undefined, subject: Array.isArray(cn) ? cn.join(',') : (cn ?? ''), uris };
}
