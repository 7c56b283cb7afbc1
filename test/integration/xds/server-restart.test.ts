// A real grpc-js-xds client keeps serving traffic on its last config while our xDS server
// is down, reconnects to a new server on the same port, and follows a change published
// after the restart. Its own file, so that the restart never disturbs another test.
import { countsBetween } from '../../support/xds-client-protocol.ts';
import { checkSplit, describeSplit, recordMeasurement } from '../../support/xds-stats.ts';
import { echoIntent, XdsWorld } from '../../support/xds-world.ts';

describe('xDS server restart with real grpc-js-xds clients', () => {
  let world: XdsWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('keeps RPCs flowing through a restart of the xDS server, then applies a weight change from the new one', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 1, 'us-east': 1 } });
    const intent = echoIntent('restart', world.fleet, { weights: { 'eu-west': 80, 'us-east': 20 } });
    await world.publish(intent);
    const client = await world.client(intent.host);
    await client.waitUntil();
    const first = await world.synced(intent.key);
    await client.startLoad({ concurrency: 4 });
    await client.loadUntil(500);

    await world.stopServer();
    const down = await client.snapshot();
    const whileDown = countsBetween(down, await client.loadUntil(1_500, down));
    // The new server is given the same intents (startServer publishes what was published).
    await world.startServer();
    const reconnected = await world.synced(intent.key);
    await world.publish(echoIntent('restart', world.fleet, { weights: { 'eu-west': 10, 'us-east': 90 } }));
    const changed = await world.synced(intent.key, { newerThan: reconnected.version });
    const mark = await client.snapshot();
    const afterChange = countsBetween(mark, await client.loadUntil(2_000, mark));
    const total = await client.stopLoad();

    // Versions are unique across restarts: the new server never reuses the old one's.
    expect(reconnected.version).not.toBe(first.version);
    expect(changed.version).not.toBe(reconnected.version);
    expect({ failed: total.failed, errors: total.errors }).toEqual({ failed: 0, errors: [] });
    const splitWhileDown = describeSplit(checkSplit(whileDown.byRegion, { 'eu-west': 80, 'us-east': 20 }));
    const splitAfter = describeSplit(checkSplit(afterChange.byRegion, { 'eu-west': 10, 'us-east': 90 }));
    expect(splitWhileDown).not.toContain('OUT');
    expect(splitAfter).not.toContain('OUT');
    recordMeasurement('server-restart', {
      total: total.ok + total.failed,
      failed: total.failed,
      whileDown: whileDown.ok + whileDown.failed,
      splitWhileDown,
      splitAfter,
      versions: [first.version, reconnected.version, changed.version],
    });
  });
});
