// The xDS control-plane channel over TLS and mTLS, driven by a raw gRPC ADS client
// (@grpc/grpc-js with createFromSecureContext) over loopback: a node is what its client
// certificate says (its SPIFFE ID) and sees only its namespace's routes; a node that claims
// another identity is refused and counted; handshakes are counted by negotiated group; a
// pq-only server refuses a client that offers only X25519; the separate plaintext address
// serves unauthenticated clients beside it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { connect, createSecureContext } from 'node:tls';
import { issueCertificate, type IssuedCertificate } from '../../../operator/tls/certificate-issuer.ts';
import type { RouteIntent } from '../../../operator/routing/route-intent.ts';
import { listenerName } from '../../../operator/xds/names.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { endpointsFor, intent, metric, startServer, type TestServer } from '../../unit/xds/fixtures.ts';
import { SotwClient, type NodeSpec } from '../../unit/xds/raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const CDS = TYPE_URLS.cluster;
const TRUST = 'spiffe://cluster.local';

const dir = mkdtempSync(join(tmpdir(), 'meshpilot-xds-tls-'));
const ca = issueCertificate({ commonName: 'meshpilot test CA', ca: true });
const otherCa = issueCertificate({ commonName: 'another CA', ca: true });
const serving = issueCertificate({ commonName: 'meshpilot-xds', sans: ['localhost', '127.0.0.1'], issuer: ca });

function files(name: string, cert: IssuedCertificate): { certFile: string; keyFile: string; caFile: string } {
  writeFileSync(join(dir, `${name}.crt`), cert.cert);
  writeFileSync(join(dir, `${name}.key`), cert.key);
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), caFile: join(dir, 'ca.crt') };
}

function workload(namespace: string, account: string, issuer = ca): IssuedCertificate {
  return issueCertificate({ commonName: account, sans: [`${TRUST}/ns/${namespace}/sa/${account}`], issuer });
}

/** gRPC channel credentials presenting `cert` (none: server-authenticated TLS only), offering `groups`. */
function tlsCredentials(cert: IssuedCertificate | undefined, groups?: string): grpc.ChannelCredentials {
  return grpc.credentials.createFromSecureContext(createSecureContext({ ca: ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}), ...(groups ? { ecdhCurve: groups } : {}) }));
}

const shop = intent({ name: 'checkout' });
const billing: RouteIntent = { ...intent({ name: 'payments' }), key: 'billing/payments', namespace: 'billing', host: 'payments.billing.svc' };
const hosts = [shop.host, billing.host].map(listenerName);

let t: TestServer;
const clients: SotwClient[] = [];
function client(node: NodeSpec, transport: { credentials?: grpc.ChannelCredentials } = {}, port = t.server.port): SotwClient {
  const c = new SotwClient(port, node, { ...transport, serverName: 'localhost' });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  t = await startServer({
    endpoints: endpointsFor(shop, billing),
    tls: { profile: 'pq-hybrid', files: files('server', serving) },
    plaintext: { host: '127.0.0.1', port: 0 },
  });
  await t.server.publish(shop);
  await t.server.publish(billing);
  await t.server.flush();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The listener names in the next LDS answer to a request for both routes' listeners. */
async function listenersSeen(c: SotwClient): Promise<string[]> {
  c.request(LDS, hosts);
  const res = await c.next();
  return res.resources.map((r) => (r as { name?: string }).name ?? '').sort();
}

describe('xDS over mTLS (pq-hybrid)', () => {
  it('serves a node only the routes of its certificate namespace, whatever it asks for', async () => {
    const c = client({ id: 'checkout-7d9f' }, { credentials: tlsCredentials(workload('shop', 'checkout')) });
    c.request(LDS, hosts);
    const res = await c.next();
    expect(res.resources).toHaveLength(1);
    // An Envoy asking for every cluster gets its namespace's only.
    const envoy = client({ id: 'envoy-shop', user_agent_name: 'envoy' }, { credentials: tlsCredentials(workload('shop', 'gateway')) });
    envoy.request(CDS, []);
    const clusters = await envoy.next();
    // Cluster { name = 1 } leads each encoded cluster: "meshpilot|NAMESPACE|ROUTE|REGION".
    const names = clusters.resources.map((r) => Buffer.from((r as unknown as { value: Uint8Array }).value).toString('latin1'));
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toContain('meshpilot|shop|checkout|');
    expect(t.server.nodes().find((n) => n.id === 'checkout-7d9f')).toMatchObject({ identity: `${TRUST}/ns/shop/sa/checkout`, scope: 'shop' });
  });

  it('refuses a node that claims another identity or namespace than its certificate, and counts it', async () => {
    const creds = tlsCredentials(workload('shop', 'checkout'));
    const spoofId = client({ id: `${TRUST}/ns/billing/sa/payments` }, { credentials: creds });
    spoofId.request(LDS, hosts);
    expect(await spoofId.ended()).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining(`the client certificate is ${TRUST}/ns/shop/sa/checkout`) });
    const spoofNs = client({ id: 'sneaky', metadata: { fields: { NAMESPACE: { stringValue: 'billing' } } } }, { credentials: creds });
    spoofNs.request(LDS, hosts);
    expect(await spoofNs.ended()).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('NAMESPACE claims namespace "billing"') });
    const sidecar = client({ id: 'sidecar~10.0.0.7~payments-5f.billing~billing.svc.cluster.local' }, { credentials: creds });
    sidecar.request(LDS, hosts);
    expect((await sidecar.ended()).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'identity_mismatch' })).toBe(3);
  });

  it('refuses a certificate without a SPIFFE ID', async () => {
    const c = client({ id: 'anonymous' }, { credentials: tlsCredentials(issueCertificate({ commonName: 'no-spiffe', sans: ['svc.example'], issuer: ca })) });
    c.request(LDS, hosts);
    expect(await c.ended()).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining('carries no SPIFFE ID') });
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'no_identity' })).toBe(1);
  });

  it('refuses, at the handshake, a client without a certificate or with one of another CA', async () => {
    const before = await metric(t.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'none' });
    for (const credentials of [tlsCredentials(undefined), tlsCredentials(workload('shop', 'checkout', otherCa))]) {
      const c = client({ id: 'no-cert' }, { credentials });
      c.request(LDS, hosts);
      expect((await c.ended(10_000)).code).toBe(grpc.status.UNAVAILABLE);
    }
    // The server names the missing certificate; a certificate of another CA is refused too,
    // though which side hangs up first (and so the recorded reason) depends on timing.
    expect(await metric(t.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', result: 'bad_certificate' })).toBeGreaterThanOrEqual(1);
    expect(await metric(t.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'none' })).toBeGreaterThanOrEqual(before + 2);
  });

  it('counts handshakes by negotiated group: the hybrid group with a default client, X25519 only with a classical-only one', async () => {
    const hybrid = await metric(t.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'X25519MLKEM768', result: 'ok' });
    expect(hybrid).toBeGreaterThan(0);
    const classic = client({ id: 'old-client' }, { credentials: tlsCredentials(workload('shop', 'legacy'), 'X25519') });
    expect(await listenersSeen(classic)).toHaveLength(1);
    expect(await metric(t.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'X25519', result: 'ok' })).toBe(1);
  });

  it('serves every route to a client on the separate plaintext address, counting its connections apart', async () => {
    const c = client({ id: 'grpc-js-xds-client' }, {}, t.server.plaintextPort!);
    expect(await listenersSeen(c)).toHaveLength(2);
    expect(await metric(t.registry, 'meshpilot_xds_plaintext_streams_total')).toBe(1);
    expect(await metric(t.registry, 'meshpilot_xds_tls_connections_total')).toBeGreaterThan(1);
  });

  it('speaks no plaintext on the TLS address', async () => {
    const c = client({ id: 'plain-to-tls' });
    c.request(LDS, hosts);
    expect((await c.ended(10_000)).code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('xDS certificate rotation', () => {
  it('serves new handshakes the new certificate while established streams keep theirs', async () => {
    const c = client({ id: 'long-lived' }, { credentials: tlsCredentials(workload('shop', 'checkout')) });
    const cart = intent({ name: 'cart', regions: { 'eu-west': [100, 0] } });
    c.request(LDS, [...hosts, listenerName(cart.host)]);
    expect((await c.next()).resources).toHaveLength(1);
    const before = t.server.tls!.credentials.leaf.serialNumber;
    const next = issueCertificate({ commonName: 'meshpilot-xds', sans: ['localhost', '127.0.0.1'], issuer: ca });
    files('server', next);
    expect(t.server.tls!.reload()).toBe(true);
    const serial = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: t.server.port, servername: 'localhost', ca: ca.cert, ALPNProtocols: ['h2'], ...workload('shop', 'probe') }, () => {
        resolve(s.getPeerX509Certificate()!.serialNumber);
        s.destroy();
      });
      s.on('error', reject);
    });
    expect(serial).toBe(new X509Certificate(next.cert).serialNumber);
    expect(serial).not.toBe(before);
    // The stream opened before the rotation still gets what is published after it.
    t.resolver.set(cart.destinations[0]!.service, [{ address: '10.9.9.9', port: 8080 }]);
    await t.server.publish(cart);
    await t.server.flush();
    expect((await c.next()).resources).toHaveLength(2);
    expect(c.status).toBeUndefined();
  });
});

describe('xDS over pq-only TLS', () => {
  it('refuses a client that offers only X25519 (counted, no configuration sent) and serves one that offers the hybrid group', async () => {
    const pq = await startServer({ endpoints: endpointsFor(shop), tls: { profile: 'pq-only', files: files('server', serving) } });
    try {
      await pq.server.publish(shop);
      const classic = client({ id: 'classic' }, { credentials: tlsCredentials(workload('shop', 'a'), 'X25519') }, pq.server.port);
      classic.request(LDS, hosts);
      expect((await classic.ended(10_000)).code).toBe(grpc.status.UNAVAILABLE);
      expect(classic.received).toHaveLength(0);
      expect(await metric(pq.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'none', result: 'no_shared_group' })).toBeGreaterThanOrEqual(1);
      const modern = client({ id: 'modern' }, { credentials: tlsCredentials(workload('shop', 'b')) }, pq.server.port);
      expect(await listenersSeen(modern)).toHaveLength(1);
      expect(await metric(pq.registry, 'meshpilot_tls_handshakes_total', { channel: 'xds', group: 'X25519', result: 'ok' })).toBe(0);
    } finally {
      await pq.close();
    }
  });
});
