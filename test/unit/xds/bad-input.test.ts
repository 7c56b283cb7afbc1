// Requests the server must refuse or ignore without harm to anyone else: floods, oversized
// and malformed messages, unknown types, a stream with no node, a client that never ACKs.
import * as grpc from '@grpc/grpc-js';
import { ManualClock } from '../../../operator/base/clock.ts';
import { routeConfigName } from '../../../operator/xds/names.ts';
import { loadXdsProtos } from '../../../operator/xds/protos.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { endpointsFor, intent, metric, startServer, until, type TestServer } from './fixtures.ts';
import { SotwClient, sotwNames } from './raw-ads-client.ts';

const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routeConfiguration;
const checkout = intent();
const host = checkout.host;

let t: TestServer;
const closers: (() => void)[] = [];

function client(id: string): SotwClient {
  const c = new SotwClient(t.server.port, { id });
  closers.push(() => c.close());
  return c;
}

/** A healthy node: asks for the listener and gets it. */
async function healthyNodeWorks(id: string): Promise<void> {
  const c = client(id);
  c.request(LDS, [host]);
  const res = await c.next();
  expect(sotwNames(res)).toEqual([host]);
}

/** A stream that sends raw bytes, for messages no well-behaved client would produce. */
function rawStream(port: number): { write(b: Buffer): void; next(): Promise<Buffer>; close(): void } {
  const c = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = c.makeBidiStreamRequest(
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    (b: Buffer) => b,
    (b: Buffer) => b,
  );
  const got: Buffer[] = [];
  call.on('data', (b: Buffer) => got.push(b));
  call.on('error', () => undefined);
  closers.push(() => {
    call.cancel();
    c.close();
  });
  return {
    write: (b) => call.write(b),
    next: () => until('a response', () => got.shift()),
    close: () => call.cancel(),
  };
}

function encodeRequest(req: Record<string, unknown>): Buffer {
  const t = loadXdsProtos().discoveryRequest;
  return Buffer.from(t.encode(t.fromObject(req)).finish());
}

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await t.close();
});

describe('XdsServer bad input', () => {
  it('drops the requests of a node that floods beyond its token bucket, and serves other nodes', async () => {
    const clock = new ManualClock(1_000_000);
    t = await startServer({ endpoints: endpointsFor(checkout), clock, debounceMs: 0, requestBurst: 5, requestsPerSecond: 1 });
    await t.server.publish(checkout);
    const flooder = client('flooder');
    for (let i = 0; i < 50; i++) flooder.request(LDS, [host, `x${i}.invalid`]);
    await until('the drops', async () => ((await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'rate_limited' })) === 45 ? true : undefined));
    await healthyNodeWorks('calm');
    // Time refills the bucket: the flooder is served again.
    await clock.advance(2000);
    flooder.request(RDS, [routeConfigName(host)]);
    await until('the flooder to be served', () => (flooder.received.some((r) => r.type_url === RDS) ? true : undefined));
  });

  it('ignores an oversized request with a metric and keeps the stream', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout), maxRequestBytes: 2048 });
    await t.server.publish(checkout);
    const c = client('big');
    c.request(LDS, [host]);
    const first = await c.next();
    c.ack(first, [host]);
    c.request(RDS, Array.from({ length: 200 }, (_, i) => `route-${i}.with.a.long.name.invalid`));
    await until('the rejection', async () => ((await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'oversized' })) === 1 ? true : undefined));
    c.request(RDS, [routeConfigName(host)]);
    expect(sotwNames(await c.next())).toEqual([routeConfigName(host)]);
    await healthyNodeWorks('other');
  });

  it('ignores a malformed request with a metric and keeps the stream', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    await t.server.publish(checkout);
    const raw = rawStream(t.server.port);
    raw.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    raw.write(encodeRequest({ node: { id: 'raw', user_agent_name: 'gRPC Node' }, resource_names: [host] })); // no type_url
    await until('the rejections', async () => ((await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'malformed' })) === 2 ? true : undefined));
    raw.write(encodeRequest({ node: { id: 'raw', user_agent_name: 'gRPC Node' }, type_url: LDS, resource_names: [host] }));
    const res = loadXdsProtos().discoveryResponse.decode(await raw.next()) as unknown as { type_url: string; resources: unknown[] };
    expect(res.type_url).toBe(LDS);
    expect(res.resources).toHaveLength(1);
    await healthyNodeWorks('other');
  });

  it('answers nothing for an unknown type URL, with a metric', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    await t.server.publish(checkout);
    const c = client('curious');
    c.request('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', ['server-cert']);
    c.request(LDS, [host]);
    const res = await c.next();
    expect(res.type_url).toBe(LDS);
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'unknown_type' })).toBe(1);
    expect(c.unread).toBe(0);
  });

  it('ends a stream whose first request names no node', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    const c = client('ignored');
    c.send({ node: null, type_url: LDS, resource_names: [host] });
    const status = await c.ended();
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await metric(t.registry, 'meshpilot_xds_requests_rejected_total', { reason: 'no_node' })).toBe(1);
    await t.server.publish(checkout);
    await healthyNodeWorks('other');
  });

  it('sends a node that never ACKs one response per change and nothing in between', async () => {
    t = await startServer({ endpoints: endpointsFor(checkout) });
    await t.server.publish(checkout);
    const silent = client('silent');
    silent.request(RDS, [routeConfigName(host)]);
    await silent.next();
    for (const timeoutMs of [2000, 3000, 4000]) {
      await t.server.publish({ ...checkout, timeoutMs });
      await t.server.flush();
    }
    // A round trip (a new type) proves everything sent before it has arrived.
    silent.request(LDS, [host]);
    const received: string[] = [];
    for (;;) {
      const r = await silent.next();
      received.push(r.type_url);
      if (r.type_url === LDS) break;
    }
    expect(received).toEqual([RDS, RDS, RDS, LDS]);
    expect(t.server.syncStatus(checkout.key)).toMatchObject({ nodes: 1, acked: 0, pending: 1 });
  });
});
