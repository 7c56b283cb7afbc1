// The harness behind the xDS tests, checked without an xDS server: a client child process
// aimed straight at one backend, and that backend's fault controls and counters.
import { BackendFleet } from '../../support/grpc-backends.ts';
import { XdsClientProcess } from '../../support/xds-client.ts';
import { checkSplit, describeSplit } from '../../support/xds-stats.ts';

describe('xDS test harness', () => {
  let fleet: BackendFleet | undefined;
  let client: XdsClientProcess | undefined;

  afterAll(async () => {
    await client?.close();
    fleet?.close();
  });

  it('counts calls on both sides and applies the fault controls of a backend', async () => {
    fleet = await BackendFleet.start({ perRegion: { 'eu-west': 2, 'us-east': 1 } });
    expect(fleet.backends.map((b) => b.endpoint)).toEqual([
      { address: '127.0.0.2', port: fleet.port },
      { address: '127.0.0.3', port: fleet.port },
      { address: '127.0.0.4', port: fleet.port },
    ]);
    expect(fleet.endpointMap()['eu-west.backends.test']).toHaveLength(2);
    const backend = fleet.byId('eu-west-1');
    client = await XdsClientProcess.start({ xdsPort: 1, nodeId: 'harness', host: 'unused', target: `ipv4:${backend.address}:${fleet.port}` });

    const clean = await client.burst(300);
    expect(clean).toMatchObject({ ok: 300, failed: 0, byRegion: { 'eu-west': 300 }, byBackend: { 'eu-west-1': 300 } });
    expect(backend.counts).toEqual({ calls: 300, ok: 300, failed: 0 });

    backend.setFaults({ failFraction: 0.3 });
    const flaky = await client.burst(2_000);
    const split = checkSplit({ ok: flaky.ok, failed: flaky.failed }, { ok: 0.7, failed: 0.3 });
    expect({ split: describeSplit(split), ok: split.every((c) => c.ok) }).toMatchObject({ ok: true });
    expect(flaky.failuresByCode).toEqual({ UNAVAILABLE: flaky.failed });

    backend.setFaults({ failFraction: 0, failAll: true });
    expect(await client.burst(50)).toMatchObject({ ok: 0, failed: 50 });

    backend.reset();
    backend.kill();
    const down = await client.burst(20, { deadlineMs: 1_000 });
    expect(down.ok).toBe(0);
    await backend.revive();
    await client.waitUntil();
    expect(backend.counts.ok).toBeGreaterThan(0);

    await client.startLoad({ concurrency: 2 });
    const first = await client.snapshot();
    const last = await client.stopLoad();
    expect(last.ok).toBeGreaterThanOrEqual(first.ok);
    expect(last.failed).toBe(0);
  });
});
