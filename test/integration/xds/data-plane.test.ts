// Real proxyless gRPC clients (@grpc/grpc-js-xds, each in its own process) follow what our
// xDS server publishes: they send real RPCs to real echo backends in three loopback
// "regions", and the tests count where the replies came from and which RPCs failed. Splits
// are checked against the binomial distribution (4.5 standard deviations), never against
// exact counts, and nothing here asserts on time.
import { BackendFleet } from '../../support/grpc-backends.ts';
import { countsBetween, type CallCounts } from '../../support/xds-client-protocol.ts';
import { checkSplit, describeSplit, recordMeasurement } from '../../support/xds-stats.ts';
import { echoIntent, XdsWorld } from '../../support/xds-world.ts';

/** Asserts that `counts` splits like `shares`; the failure message shows the whole split. */
function expectSplit(counts: Record<string, number>, shares: Record<string, number>): string {
  const summary = describeSplit(checkSplit(counts, shares));
  expect(summary).not.toContain('OUT');
  return summary;
}

/** Calls that reached any backend (attempts, retries included). */
function attemptsOf(calls: Record<string, { calls: number }>): number {
  return Object.values(calls).reduce((a, c) => a + c.calls, 0);
}

describe('xDS data plane with real grpc-js-xds clients', () => {
  let world: XdsWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('splits traffic by the route weights (70/20/10 over 3,000 RPCs, each region within 4.5 sigma)', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2, 'us-east': 2, 'ap-south': 2 } });
    const intent = echoIntent('weights', world.fleet, { weights: { 'eu-west': 70, 'us-east': 20, 'ap-south': 10 } });
    await world.publish(intent);
    const client = await world.client(intent.host);
    await client.waitUntil();
    await world.synced(intent.key);

    const counts = await client.burst(3_000);

    expect(counts).toMatchObject({ ok: 3_000, failed: 0 });
    const split = expectSplit(counts.byRegion, { 'eu-west': 70, 'us-east': 20, 'ap-south': 10 });
    // Inside a region round robin spreads over both backends.
    for (const backend of world.fleet.backends) expect(counts.byBackend[backend.id] ?? 0).toBeGreaterThan(0);
    recordMeasurement('weights', { split, byBackend: counts.byBackend });
  });

  it('applies a weight change (80/20 to 10/90) under steady load without a failed RPC', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2, 'us-east': 2 } });
    const before = echoIntent('reweight', world.fleet, { weights: { 'eu-west': 80, 'us-east': 20 } });
    await world.publish(before);
    const client = await world.client(before.host);
    await client.waitUntil();
    const first = await world.synced(before.key);

    await client.startLoad({ concurrency: 4 });
    const beforeChange = await client.loadUntil(2_000);
    await world.publish(echoIntent('reweight', world.fleet, { weights: { 'eu-west': 10, 'us-east': 90 } }));
    const second = await world.synced(before.key, { newerThan: first.version });
    const changed = await client.snapshot();
    const afterChange = countsBetween(changed, await client.loadUntil(2_000, changed));
    const total = await client.stopLoad();

    expect(second.version).not.toBe(first.version);
    expect({ failed: total.failed, errors: total.errors }).toEqual({ failed: 0, errors: [] });
    const splitBefore = expectSplit(beforeChange.byRegion, { 'eu-west': 80, 'us-east': 20 });
    const splitAfter = expectSplit(afterChange.byRegion, { 'eu-west': 10, 'us-east': 90 });
    recordMeasurement('reweight', { total: total.ok + total.failed, failed: total.failed, splitBefore, splitAfter });
  });

  it('masks a backend that fails 30% of calls with retries, and shows the failures without them', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2 } });
    const flaky = world.fleet.byId('eu-west-1');
    // Outlier detection stays off (max ejection 0%) so that only retries are at work.
    const without = echoIntent('no-retries', world.fleet, { weights: { 'eu-west': 100 }, retries: { attempts: 0 } });
    const withRetries = echoIntent('retries', world.fleet, {
      weights: { 'eu-west': 100 },
      retries: { attempts: 3, retryOn: ['unavailable'] },
    });
    await world.publish(without);
    await world.publish(withRetries);
    const plain = await world.client(without.host);
    const retrying = await world.client(withRetries.host);
    await plain.waitUntil();
    await retrying.waitUntil();
    await world.synced(without.key);
    await world.synced(withRetries.key);
    flaky.setFaults({ failFraction: 0.3 });
    const rpcs = 2_000;

    world.fleet.resetCounts();
    const bare = await plain.burst(rpcs);
    const bareBackend = world.fleet.calls();

    world.fleet.resetCounts();
    const masked = await retrying.burst(rpcs);
    const maskedBackend = world.fleet.calls();

    // Without retries every failure the flaky backend produced reaches the caller: about 30%
    // of its half of the calls.
    expect(bare.ok + bare.failed).toBe(rpcs);
    expect(bare.failuresByCode).toEqual({ UNAVAILABLE: bare.failed });
    expect(bare.failed).toBe(bareBackend['eu-west-1']!.failed);
    expectSplit({ failed: bare.failed, ok: bareBackend['eu-west-1']!.ok }, { failed: 30, ok: 70 });
    expect(attemptsOf(bareBackend)).toBe(rpcs);

    // With 3 retries (num_retries 3: 4 attempts) a call fails only when all 4 attempts fail.
    // Even if every attempt landed on the flaky backend at random (p = 0.5 · 0.3 = 0.15 per
    // attempt), that is 0.15⁴ ≈ 5·10⁻⁴ per call: about 1 in 2,000 calls. More than 10 has a
    // probability below 10⁻⁷ under that model; without retries it is about 300.
    const attempts = attemptsOf(maskedBackend);
    const failedAttempts = maskedBackend['eu-west-1']!.failed;
    expect(masked.ok + masked.failed).toBe(rpcs);
    expect(masked.failed).toBeLessThanOrEqual(10);
    // Every failed attempt but the last of a call that failed for good was retried.
    expect(failedAttempts).toBeGreaterThan(0);
    expect(attempts).toBe(rpcs + failedAttempts - masked.failed);
    recordMeasurement('retries', {
      rpcs,
      withoutRetries: { failed: bare.failed, backend: bareBackend },
      withRetries: { failed: masked.failed, attempts, failedAttempts, backend: maskedBackend },
    });
  });

  it('fails over to the next priority region when every backend of a region dies, and back when it returns', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2, 'us-east': 2, 'ap-south': 2 } });
    const intent = echoIntent('failover', world.fleet, {
      weights: { 'eu-west': 100, 'us-east': 0, 'ap-south': 0 },
      retries: { attempts: 2, retryOn: ['unavailable'] },
    });
    await world.publish(intent);
    const client = await world.client(intent.host);
    await client.waitUntil();
    await world.synced(intent.key);

    const inFlight = 4;
    await client.startLoad({ concurrency: inFlight });
    const healthy = await client.loadUntil(500);
    // Kills (or revives) backends, then waits until a run of 300 consecutive RPCs all went to
    // `region` and measures 500 more. `transition` is everything from just before the change.
    const moveTo = async (region: string, change: () => void | Promise<void>): Promise<{ window: CallCounts; transition: CallCounts }> => {
      const start = await client.snapshot();
      await change();
      let mark = start;
      for (;;) {
        const next = await client.loadUntil(300, mark);
        const run = countsBetween(mark, next);
        mark = next;
        if (run.failed === 0 && (run.byRegion[region] ?? 0) === run.ok) break;
      }
      const window = countsBetween(mark, await client.loadUntil(500, mark));
      return { window, transition: countsBetween(start, mark) };
    };
    const kill = (region: string) => () => {
      for (const b of world!.fleet.inRegion(region)) b.kill();
    };

    const toUsEast = await moveTo('us-east', kill('eu-west'));
    const toApSouth = await moveTo('ap-south', kill('us-east'));
    const back = await moveTo('eu-west', async () => {
      for (const b of world!.fleet.inRegion('eu-west')) await b.revive();
    });
    const total = await client.stopLoad();

    expect(healthy.byRegion).toEqual({ 'eu-west': healthy.ok });
    for (const [region, step] of [['us-east', toUsEast], ['ap-south', toApSouth], ['eu-west', back]] as const) {
      expect({ region, failed: step.window.failed, byRegion: step.window.byRegion }).toEqual({
        region,
        failed: 0,
        byRegion: { [region]: step.window.ok },
      });
    }
    // RPCs keep succeeding through each failover. The only calls that may fail are the (at
    // most 4) in flight when a region died whose reply had already begun: a reset after the
    // response headers commits the call, and gRPC never retries a committed call. grpc-js
    // reports it as "UNAVAILABLE: read ECONNRESET" when the socket error reaches it first, and
    // as "UNAVAILABLE: Connection dropped" when the transport's disconnect does (its
    // subchannel-call.js: onDisconnect, or a synthesized NGHTTP2_CANCEL): which one wins is a
    // matter of timing on a loaded machine. Retries (2, on UNAVAILABLE) cover every other call.
    expect({ failed: total.failed <= 2 * inFlight, failuresByCode: total.failuresByCode, errors: total.errors }).toEqual({
      failed: true,
      failuresByCode: total.failed === 0 ? {} : { UNAVAILABLE: total.failed },
      errors: total.errors.map(() => expect.stringMatching(/^UNAVAILABLE: (.*ECONNRESET|Connection dropped)$/)),
    });
    expect(toUsEast.transition.failed + toApSouth.transition.failed).toBe(total.failed);
    recordMeasurement('failover', {
      total: total.ok + total.failed,
      failed: total.failed,
      failuresByCode: total.failuresByCode,
      transitions: { usEast: toUsEast.transition, apSouth: toApSouth.transition, euWestAgain: back.transition },
    });
  });

  it('ejects a backend that fails every call through outlier detection', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2 } });
    const bad = world.fleet.byId('eu-west-1');
    const good = world.fleet.byId('eu-west-0');
    const intent = echoIntent('outliers', world.fleet, {
      weights: { 'eu-west': 100 },
      retries: { attempts: 0 },
      outlierDetection: { consecutive5xx: 5, intervalMs: 300, baseEjectionTimeMs: 120_000, maxEjectionPercent: 50 },
    });
    await world.publish(intent);
    const client = await world.client(intent.host);
    await client.waitUntil();
    await world.synced(intent.key);
    bad.setFaults({ failAll: true });

    // Before the ejection the bad backend fails its share of the calls...
    const beforeEjection = await client.burst(200, { concurrency: 4 });
    expect(beforeEjection.failed).toBeGreaterThan(0);
    // ...until a whole burst succeeds, which only happens once it no longer gets calls.
    await client.waitUntil((c) => c.failed === 0, 30_000, 'the failing backend to be ejected');
    world.fleet.resetCounts();
    const afterEjection = await client.burst(2_000);

    expect(afterEjection.ok + afterEjection.failed).toBe(2_000);
    expect(bad.counts.calls).toBeLessThanOrEqual(20); // "almost no traffic": at most 1%
    expect(afterEjection.failed).toBe(bad.counts.failed);
    expect(good.counts.ok).toBe(afterEjection.ok);
    recordMeasurement('outlier-detection', {
      beforeEjection: { ok: beforeEjection.ok, failed: beforeEjection.failed },
      afterEjection: { ok: afterEjection.ok, failed: afterEjection.failed, badBackendCalls: bad.counts.calls },
    });
  });
  it('keeps traffic flowing on the last good config when the client NACKs a new one, and takes the next good one', async () => {
    world = await XdsWorld.start({ perRegion: { 'eu-west': 2, 'us-east': 2 } });
    const intent = echoIntent('nack', world.fleet, { weights: { 'eu-west': 50, 'us-east': 50 } });
    await world.publish(intent);
    const client = await world.client(intent.host);
    await client.waitUntil();
    const good = await world.synced(intent.key);
    await client.startLoad({ concurrency: 4 });
    await client.loadUntil(500);

    // Endpoints given by name instead of address: the server passes resolver answers through,
    // and grpc-js-xds rejects a ClusterLoadAssignment whose address is not an IP.
    const usEast = BackendFleet.serviceName('us-east');
    const goodEndpoints = world.fleet.endpointMap()[usEast]!;
    world.resolver.set(usEast, [{ address: 'us-east-0.backends.test', port: world.fleet.port }]);
    const rejected = await world.nacked(intent.key);
    const mark = await client.snapshot();
    const onLastGood = countsBetween(mark, await client.loadUntil(2_000, mark));
    const [node] = world.server.nodes();
    const eds = Object.entries(node?.resources ?? {}).find(([typeUrl]) => typeUrl.endsWith('ClusterLoadAssignment'))?.[1];

    world.resolver.set(usEast, goodEndpoints);
    const recovered = await world.synced(intent.key, { newerThan: rejected.version });
    const total = await client.stopLoad();

    expect(rejected).toMatchObject({ nacked: 1, acked: 0 });
    expect(rejected.version).not.toBe(good.version);
    expect(rejected.nackMessages.join('\n')).toContain('not a valid IPv4 or IPv6 address');
    expect(eds).toMatchObject({ nackedVersion: rejected.version, lastNack: expect.stringContaining('us-east-0.backends.test') });
    expect(eds?.ackedVersion).not.toBe(rejected.version);
    // Both regions keep serving from the endpoints the client accepted last.
    expect({ failed: total.failed, errors: total.errors }).toEqual({ failed: 0, errors: [] });
    const split = expectSplit(onLastGood.byRegion, { 'eu-west': 50, 'us-east': 50 });
    expect(Object.keys(onLastGood.byBackend).sort()).toEqual(['eu-west-0', 'eu-west-1', 'us-east-0', 'us-east-1']);
    expect(recovered).toMatchObject({ nacked: 0, acked: 1 });
    recordMeasurement('nack', { total: total.ok + total.failed, failed: total.failed, splitOnLastGood: split, nack: rejected.nackMessages });
  });
});
