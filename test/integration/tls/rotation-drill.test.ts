// The seed's certificate-rotation drill on the xDS channel, under steady load. The operator's
// serving certificate and its client CA, and the clients' certificates and trust, live in
// Secrets mounted as kubelet mounts them. The CA is rotated the safe way:
//   1. overlap: every trust bundle holds the old CA and the new one;
//   2. leaves: the server's and the clients' certificates are re-issued by the new CA;
//   3. retire: the old CA leaves every bundle.
// Meanwhile ADS clients keep streams open and take weight changes, and new clients connect
// without pause, each reading its Secret's files when it connects (as a file-watching
// workload does). Nothing may fail; once the server has reloaded the new leaf, every new
// handshake shows its serial.
import { afterAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createSecureContext } from 'node:tls';
import { issueCertificate, type IssuedCertificate } from '../../../operator/tls/certificate-issuer.ts';
import { listenerName, routeConfigName } from '../../../operator/xds/names.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { MountedSecret } from '../../support/mounted-secret.ts';
import { recordMeasurement as recordDrill } from '../../support/xds-stats.ts';
import { endpointsFor, intent, metric, startServer, until, type TestServer } from '../../unit/xds/fixtures.ts';
import { SotwClient } from '../../unit/xds/raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routeConfiguration;
const ID = 'spiffe://cluster.local/ns/shop/sa/checkout';

const oldCa = issueCertificate({ commonName: 'mesh CA 2025', ca: true });
const newCa = issueCertificate({ commonName: 'mesh CA 2026', ca: true });
const serverLeaf = (ca: IssuedCertificate) => issueCertificate({ commonName: 'meshpilot-xds', sans: ['localhost', '127.0.0.1'], issuer: ca });
const clientLeaf = (ca: IssuedCertificate) => issueCertificate({ commonName: 'checkout', sans: [ID], issuer: ca });
const secretOf = (leaf: IssuedCertificate, ...cas: IssuedCertificate[]) => ({ 'tls.crt': leaf.cert, 'tls.key': leaf.key, 'ca.crt': cas.map((c) => c.cert).join('') });
const serial = (c: IssuedCertificate) => new X509Certificate(c.cert).serialNumber;

const route = intent({ name: 'checkout' });
let t: TestServer | undefined;
const secrets: MountedSecret[] = [];
const clients: SotwClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await t?.close();
  for (const s of secrets) s.remove();
});

/**
 * The client Secret's files now, as a careful workload reads them when it connects: through
 * one resolution of `..data`, so that a swap between two reads cannot pair a new certificate
 * with an old key.
 */
function clientFiles(secret: MountedSecret): { ca: string; cert: string; key: string } {
  const data = realpathSync(secret.path('..data'));
  const read = (name: string) => readFileSync(join(data, name), 'utf8');
  return { ca: read('ca.crt'), cert: read('tls.crt'), key: read('tls.key') };
}

interface Churn {
  handshakes: { startedAt: number; serial: string }[];
  requests: number;
  failures: string[];
  stop(): Promise<void>;
}

/** New connections without pause: raw TLS handshakes (recording the server's serial) and ADS clients making one request each. */
function churn(port: number, secret: MountedSecret): Churn {
  const state: Churn = { handshakes: [], requests: 0, failures: [], stop: async () => undefined };
  let running = true;
  const handshakeLoop = (async () => {
    while (running) {
      const startedAt = performance.now();
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ALPNProtocols: ['h2'], ...clientFiles(secret) }, () => {
          state.handshakes.push({ startedAt, serial: s.getPeerX509Certificate()!.serialNumber });
          s.destroy();
          resolve();
        });
        s.on('error', (e) => {
          state.failures.push(`handshake: ${e.message}`);
          resolve();
        });
      });
    }
  })();
  const requestLoop = (async () => {
    let n = 0;
    while (running) {
      const c = new SotwClient(port, { id: `churn-${n++}` }, { credentials: grpc.credentials.createFromSecureContext(createSecureContext(clientFiles(secret))), serverName: 'localhost' });
      try {
        c.request(LDS, [listenerName(route.host)]);
        await c.next(10_000);
        state.requests += 1;
      } catch (e) {
        state.failures.push(`request: ${(e as Error).message}; ${c.status ? `${grpc.status[c.status.code]}: ${c.status.details}` : ''}`);
      } finally {
        c.close();
      }
    }
  })();
  state.stop = async () => {
    running = false;
    await Promise.all([handshakeLoop, requestLoop]);
  };
  return state;
}

/** Waits, polling, until `check` holds. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>): Promise<true> => until(what, async () => ((await check()) ? true : undefined), 15_000);

describe('certificate rotation drill on the xDS channel', () => {
  it('rotates the CA (with an overlap bundle) and every leaf under load: no failed handshake, request or stream; new handshakes show the new serial', async () => {
    const firstServer = serverLeaf(oldCa);
    const serverSecret = MountedSecret.create(secretOf(firstServer, oldCa));
    const clientSecret = MountedSecret.create(secretOf(clientLeaf(oldCa), oldCa));
    secrets.push(serverSecret, clientSecret);
    t = await startServer({
      endpoints: endpointsFor(route),
      tls: { profile: 'pq-hybrid', files: { certFile: serverSecret.path('tls.crt'), keyFile: serverSecret.path('tls.key'), caFile: serverSecret.path('ca.crt') } },
    });
    await t.server.publish(route);
    await t.server.flush();
    const server = t;

    // Long-lived streams that must take every change through the rotation.
    for (let i = 0; i < 3; i++) {
      const c = new SotwClient(server.server.port, { id: `steady-${i}` }, { credentials: grpc.credentials.createFromSecureContext(createSecureContext(clientFiles(clientSecret))), serverName: 'localhost' });
      clients.push(c);
      c.request(LDS, [listenerName(route.host)]);
      const lds = await c.next();
      c.ack(lds, [listenerName(route.host)]);
      c.request(RDS, [routeConfigName(route.host)]);
      const rds = await c.next();
      c.ack(rds, [routeConfigName(route.host)]);
    }
    const load = churn(server.server.port, clientSecret);
    let weight = 70;
    const push = async (): Promise<void> => {
      weight = weight === 70 ? 60 : 70;
      await server.server.publish({ ...route, destinations: route.destinations.map((d, i) => ({ ...d, weight: i === 0 ? weight : i === 1 ? 100 - weight : 0 })) });
      await server.server.flush();
      for (const c of clients) {
        const res = await c.next();
        c.ack(res, [routeConfigName(route.host)]);
      }
    };
    const reloads = () => metric(server.registry, 'meshpilot_tls_credential_reloads_total', { channel: 'xds', result: 'reloaded' });
    const progressed = async (handshakes: number, requests: number) => waitFor('load to go on', () => load.handshakes.length > handshakes && load.requests > requests);

    await progressed(5, 2);
    // 1. Overlap: every bundle trusts both CAs.
    serverSecret.update(secretOf(firstServer, oldCa, newCa));
    clientSecret.update(secretOf(clientLeaf(oldCa), oldCa, newCa));
    await waitFor('the server to reload the overlap bundle', async () => (await reloads()) >= 1);
    await push();
    await progressed(load.handshakes.length + 5, load.requests + 2);

    // 2. Leaves from the new CA.
    const secondServer = serverLeaf(newCa);
    serverSecret.update(secretOf(secondServer, oldCa, newCa));
    clientSecret.update(secretOf(clientLeaf(newCa), oldCa, newCa));
    await waitFor('the server to serve the new leaf', () => server.server.tls!.credentials.leaf.serialNumber === serial(secondServer));
    const rotatedAt = performance.now();
    await push();
    await progressed(load.handshakes.length + 5, load.requests + 2);

    // 3. Retire the old CA.
    serverSecret.update(secretOf(secondServer, newCa));
    clientSecret.update(secretOf(clientLeaf(newCa), newCa));
    await waitFor('the server to drop the old CA', async () => (await reloads()) >= 3);
    await push();
    await progressed(load.handshakes.length + 5, load.requests + 2);
    await load.stop();
    recordDrill('rotation-drill', { handshakes: load.handshakes.length, requests: load.requests, failures: load.failures.length });

    expect(load.failures).toEqual([]);
    for (const c of clients) expect(c.status).toBeUndefined();
    const after = load.handshakes.filter((h) => h.startedAt > rotatedAt);
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(after.map((h) => h.serial))).toEqual(new Set([serial(secondServer)]));
    expect(load.handshakes.some((h) => h.serial === serial(firstServer))).toBe(true);
    expect(await metric(server.registry, 'meshpilot_tls_credential_reloads_total', { channel: 'xds', result: 'failed' })).toBe(0);
  }, 120_000);
});
