// Two LeaderElectors contending for one Lease on the real embedded API server.
import { pino } from 'pino';
import { LeaderElector } from '../../../operator/kube/leader-election.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

interface Replica {
  elector: LeaderElector;
  stop: AbortController;
  running: Promise<void>;
  working: () => boolean;
}

function replica(h: Harness, identity: string): Replica {
  let working = false;
  const elector = new LeaderElector({
    store: h.api.leaseStore('default', 'meshpilot-test'),
    identity,
    logger: pino({ level: 'silent' }),
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 200,
    onStartedLeading: (signal) =>
      new Promise<void>((resolve) => {
        working = true;
        signal.addEventListener('abort', () => {
          working = false;
          resolve();
        });
      }),
  });
  const stop = new AbortController();
  return { elector, stop, running: elector.run(stop.signal), working: () => working };
}

describe('LeaderElector against the local API server', () => {
  let h: Harness;
  const replicas: Replica[] = [];

  afterEach(async () => {
    for (const r of replicas.splice(0)) {
      r.stop.abort();
      await r.running;
    }
    await h?.close();
  });

  it('lets exactly one of two replicas lead and hands over when it stops', async () => {
    h = await startHarness();
    replicas.push(replica(h, 'replica-a'), replica(h, 'replica-b'));
    const leader = await eventually(() => replicas.find((r) => r.elector.isLeader()), 'a leader');
    // Watch for a while: never two at once.
    for (let i = 0; i < 20; i++) {
      expect(replicas.filter((r) => r.working())).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    const lease = await h.api.leaseStore('default', 'meshpilot-test').get();
    expect(lease?.record.holderIdentity).toBe(leader.elector.identity);

    const standby = replicas.find((r) => r !== leader)!;
    const stoppedAt = Date.now();
    leader.stop.abort();
    await leader.running;
    expect(leader.working()).toBe(false);
    await eventually(() => (standby.elector.isLeader() ? true : undefined), 'the standby to take over', 3000);
    // Released on a graceful stop: well within one lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(standby.working()).toBe(true);
  });

  it('takes over from a replica that vanished without releasing, after the lease duration', async () => {
    h = await startHarness();
    const crashed = new LeaderElector({
      store: h.api.leaseStore('default', 'meshpilot-test'),
      identity: 'crashed',
      logger: pino({ level: 'silent' }),
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
      releaseOnCancel: false,
      onStartedLeading: () => undefined,
    });
    const crashStop = new AbortController();
    const crashRun = crashed.run(crashStop.signal);
    await eventually(() => (crashed.isLeader() ? true : undefined), 'the first replica to lead');
    crashStop.abort();
    await crashRun;
    const standby = replica(h, 'standby');
    replicas.push(standby);
    const started = Date.now();
    await eventually(() => (standby.elector.isLeader() ? true : undefined), 'the standby to take over', 6000);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(2500);
    expect(waited).toBeLessThan(4500);
  });
});
