// Who a peer is (its SPIFFE ID), what a node may claim, and the certificates meshpilot issues
// itself: a CA, leaves it signs (which OpenSSL verifies), and `local`'s authority on disk.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate } from '../../../operator/tls/certificate-issuer.ts';
import { LOCAL_CLIENT_ID, localAuthority } from '../../../operator/tls/local-authority.ts';
import { parseSpiffeId, peerIdentity, sanUris } from '../../../operator/tls/peer-identity.ts';
import { admitNode } from '../../../operator/xds/node-identity.ts';

const SHOP = 'spiffe://cluster.local/ns/shop/sa/checkout';

describe('SPIFFE identities', () => {
  it('parses Kubernetes workload IDs and nothing else', () => {
    expect(parseSpiffeId(SHOP)).toEqual({ uri: SHOP, trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'checkout' });
    for (const bad of ['spiffe://cluster.local/checkout', 'https://cluster.local/ns/shop/sa/checkout', 'spiffe://cluster.local/ns/Shop/sa/x', 'spiffe://cluster.local/ns/shop/sa/']) {
      expect(parseSpiffeId(bad)).toBeUndefined();
    }
    expect(sanUris('DNS:checkout.shop.svc, URI:spiffe://cluster.local/ns/shop/sa/checkout, IP Address:10.0.0.1')).toEqual([SHOP]);
  });

  it('reads the identity from the certificate an issued leaf carries', () => {
    const ca = issueCertificate({ commonName: 'ca', ca: true });
    const leaf = issueCertificate({ commonName: 'checkout', sans: [SHOP, 'checkout.shop.svc'], issuer: ca });
    const x = new X509Certificate(leaf.cert);
    expect(x.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(x.ca).toBe(false);
    expect(new X509Certificate(ca.cert).ca).toBe(true);
    const identity = peerIdentity({ subject: { CN: 'checkout' }, subjectaltname: x.subjectAltName } as never);
    expect(identity).toEqual({ spiffe: parseSpiffeId(SHOP) });
  });
});

describe('admitNode', () => {
  const peer = { spiffe: parseSpiffeId(SHOP)! };
  const node = (id: string, namespace?: string) => ({ id, cluster: '', user_agent_name: 'gRPC Node', ...(namespace ? { metadata: { fields: { NAMESPACE: { string_value: namespace } } } } : {}) });

  it('admits any node without a client certificate, unscoped', () => {
    expect(admitNode(node(`spiffe://cluster.local/ns/billing/sa/x`), undefined)).toEqual({ admitted: true, identity: undefined, scope: undefined });
  });

  it('scopes a node with a certificate to its namespace, whatever free-form id it sends', () => {
    expect(admitNode(node('checkout-7f9c'), peer)).toEqual({ admitted: true, identity: SHOP, scope: 'shop' });
    expect(admitNode(node(SHOP, 'shop'), peer)).toMatchObject({ admitted: true, scope: 'shop' });
    expect(admitNode(node('sidecar~10.0.0.7~checkout-5f.shop~shop.svc.cluster.local'), peer)).toMatchObject({ admitted: true });
  });

  it('refuses a node whose claims disagree with its certificate, naming both', () => {
    expect(admitNode(node('spiffe://cluster.local/ns/shop/sa/admin'), peer)).toEqual({
      admitted: false,
      reason: 'identity_mismatch',
      message: `node.id claims spiffe://cluster.local/ns/shop/sa/admin, but the client certificate is ${SHOP}`,
    });
    expect(admitNode(node('x', 'billing'), peer)).toMatchObject({ admitted: false, reason: 'identity_mismatch' });
    expect(admitNode(node('sidecar~10.0.0.7~pay-5f.billing~billing.svc.cluster.local'), peer)).toMatchObject({ admitted: false, reason: 'identity_mismatch' });
    expect(admitNode(node('x'), { spiffe: undefined, subject: 'legacy', uris: [] })).toMatchObject({ admitted: false, reason: 'no_identity' });
  });
});

describe('localAuthority', () => {
  it('issues a CA, a loopback serving certificate and a SPIFFE client certificate once, and again only when one is unusable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshpilot-authority-'));
    try {
      const first = localAuthority(dir);
      const ca = new X509Certificate(readText(first.server.caFile));
      const server = new X509Certificate(readText(first.server.certFile));
      const client = new X509Certificate(readText(first.client.certFile));
      expect(server.checkIssued(ca) && client.checkIssued(ca)).toBe(true);
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(client.subjectAltName).toBe(`URI:${LOCAL_CLIENT_ID}`);
      expect(localAuthority(dir)).toEqual(first);
      expect(readText(first.server.certFile)).toBe(server.toString());
      writeFileSync(first.client.keyFile, 'torn');
      const again = localAuthority(dir);
      expect(readText(again.server.caFile)).toBe(ca.toString());
      expect(new X509Certificate(readText(again.client.certFile)).serialNumber).not.toBe(client.serialNumber);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
