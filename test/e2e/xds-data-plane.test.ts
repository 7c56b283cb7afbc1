// The whole path of a decision: an AdaptiveRoute applied to the cluster, reconciled by the
// operator, served by its xDS server to a real proxyless gRPC client (grpc-js-xds) that sends
// real RPCs to real backends. The route's status reports the node's ACK; `meshpilot xds dump`
// shows what the node holds; a standby replica serves the leader's decision as well.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { BackendFleet } from '../support/grpc-backends.ts';
import { CLI } from '../support/cluster.ts';
import { useE2e } from '../support/e2e.ts';
import { route, converged, condition } from '../support/routes.ts';
import { XdsClientProcess } from '../support/xds-client.ts';

const run = promisify(execFile);
const HOST = 'echo.e2e.meshpilot.test';

describe('operator serving a route over xDS', () => {
  const e2e = useE2e('e2e-xds', { leaseDuration: '4s', renewDeadline: '3s', retryPeriod: '500ms' });
  let fleet: BackendFleet;
  const clients: XdsClientProcess[] = [];

  beforeAll(async () => {
    fleet = await BackendFleet.start({ perRegion: { 'eu-west': 1, 'us-east': 1 }, firstHost: 201 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const b of fleet?.backends ?? []) b.kill();
  });

  function echoRoute(weights: Record<string, number>) {
    const r = route('echo', e2e.cluster.namespace, weights);
    r.spec.host = HOST;
    r.spec.destinations = fleet.backends.map((b) => ({ region: b.region, service: b.address, port: fleet.port, weight: weights[b.region] ?? 0 })) as typeof r.spec.destinations;
    return r;
  }

  it('carries weight changes to a proxyless gRPC client and reports its ACK in status', async () => {
    const leader = e2e.start('xds-leader');
    const { xdsPlaintextPort: xdsPort, metricsPort } = await leader.endpoints();
    await e2e.routes.create(echoRoute({ 'eu-west': 100, 'us-east': 0 }));

    const client = await XdsClientProcess.start({ xdsPort, nodeId: 'e2e-client-1', host: HOST, region: 'eu-west' });
    clients.push(client);
    await client.waitUntil((c) => c.ok > 0 && c.failed === 0);
    const first = await client.burst(200);
    expect(first).toMatchObject({ failed: 0, byRegion: { 'eu-west': 200 } });

    const [synced] = await e2e.routes.waitFor((r) => converged(r) && r.status?.xds?.acked === 1, 30_000, 'the client ACK in status');
    expect(synced!.status?.xds).toMatchObject({ nodes: 1, acked: 1, nacked: 0, pending: 0 });
    expect(condition(synced!, 'XdsSynced')).toMatchObject({ status: 'True', reason: 'AllNodesAcked' });

    await e2e.routes.setWeights('echo', { 'eu-west': 0, 'us-east': 100 });
    await client.waitUntil((c) => (c.byRegion['us-east'] ?? 0) > 0, 20_000, 'traffic to move to us-east');
    const moved = await client.burst(200);
    expect(moved).toMatchObject({ failed: 0, byRegion: { 'us-east': 200 } });

    const { stdout } = await run(process.execPath, [CLI, 'xds', 'dump', '--node', 'e2e-client-1', '--admin-addr', `127.0.0.1:${metricsPort}`]);
    expect(stdout).toContain(HOST);
    expect(JSON.parse(stdout)).toBeDefined();

    // Every metric the shipped Grafana dashboard queries is one this operator exports.
    const dashboard = readFileSync(new URL('../../deploy/grafana/meshpilot-dashboard.json', import.meta.url), 'utf8');
    const queried = new Set(dashboard.match(/meshpilot_[a-z0-9_]+/g));
    const exported = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const declared = new Set([...exported.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
    ));
    expect([...queried].filter((m) => !declared.has(m))).toEqual([]);
  });

  it('serves the leader’s decision from a standby replica too', async () => {
    const standby = e2e.start('xds-standby');
    const { xdsPlaintextPort: xdsPort } = await standby.endpoints();
    expect(await standby.metric('meshpilot_leader_election_status')).toBe(0);
    const client = await XdsClientProcess.start({ xdsPort, nodeId: 'e2e-client-2', host: HOST, region: 'us-east' });
    clients.push(client);
    await client.waitUntil((c) => c.ok > 0 && c.failed === 0);
    expect(await client.burst(200)).toMatchObject({ failed: 0, byRegion: { 'us-east': 200 } });
  });
});
