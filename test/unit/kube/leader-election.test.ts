import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { KubeApiError } from '../../../operator/kube/api-error.ts';
import {
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from '../../../operator/kube/leader-election.ts';

const settle = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** One Lease in memory with the API server's optimistic concurrency; can be taken down. */
class MemoryLeaseStore implements LeaseStore {
  readonly description = 'default/test-lease';
  lease: StoredLease | undefined;
  #rv = 0;
  down = false;

  async get(): Promise<StoredLease | undefined> {
    if (this.down) throw new KubeApiError(0, 'connection refused');
    return this.lease && structuredClone(this.lease);
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    if (this.down) throw new KubeApiError(0, 'connection refused');
    if (this.lease) throw new KubeApiError(409, 'already exists');
    this.lease = { record: { ...record }, resourceVersion: String(++this.#rv) };
    return structuredClone(this.lease);
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    if (this.down) throw new KubeApiError(0, 'connection refused');
    if (!this.lease) throw new KubeApiError(404, 'not found');
    if (this.lease.resourceVersion !== resourceVersion) throw new KubeApiError(409, 'conflict');
    this.lease = { record: { ...record }, resourceVersion: String(++this.#rv) };
    return structuredClone(this.lease);
  }
}

interface Candidate {
  elector: LeaderElector;
  stop: AbortController;
  running: Promise<void>;
  /** Whether its leading work is running (started and not yet aborted). */
  working: () => boolean;
  stopped: () => number;
}

function candidate(store: LeaseStore, clock: ManualClock, identity: string, registry?: Registry, releaseOnCancel = true): Candidate {
  let working = false;
  let stopped = 0;
  const elector = new LeaderElector({
    store,
    identity,
    clock,
    registry,
    releaseOnCancel,
    random: () => 0,
    logger: pino({ level: 'silent' }),
    onStartedLeading: (signal) =>
      new Promise<void>((resolve) => {
        working = true;
        signal.addEventListener('abort', () => {
          working = false;
          resolve();
        });
      }),
    onStoppedLeading: () => {
      stopped += 1;
    },
  });
  const stop = new AbortController();
  return { elector, stop, running: elector.run(stop.signal), working: () => working, stopped: () => stopped };
}

async function tick(clock: ManualClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over at once on a graceful stop', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    await tick(clock, 10_000);
    const leaders = [a, b].filter((c) => c.elector.isLeader());
    expect(leaders).toHaveLength(1);
    expect([a, b].filter((c) => c.working())).toHaveLength(1);
    const [leader, standby] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(store.lease?.record.holderIdentity).toBe(leader.elector.identity);

    leader.stop.abort();
    await leader.running;
    expect(leader.working()).toBe(false);
    expect(leader.stopped()).toBe(1);
    expect(store.lease?.record.holderIdentity).toBe('');
    // The standby takes over within one retry period, not a lease duration.
    await tick(clock, 2_000);
    expect(standby.elector.isLeader()).toBe(true);
    expect(standby.working()).toBe(true);
    expect(store.lease?.record.leaseTransitions).toBe(1);
    standby.stop.abort();
    await standby.running;
  });

  it('takes over a crashed leader only after the lease duration, timed by its own clock', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    // A holder whose clock is far behind: its renewTime looks ancient, but it must still be
    // given a full lease duration from the moment we first see the record.
    store.lease = {
      resourceVersion: '100',
      record: {
        holderIdentity: 'crashed',
        leaseDurationSeconds: 15,
        acquireTime: '2000-01-01T00:00:00.000000Z',
        renewTime: '2000-01-01T00:00:00.000000Z',
        leaseTransitions: 3,
      },
    };
    const b = candidate(store, clock, 'b');
    await tick(clock, 14_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader).toBe('crashed');
    await tick(clock, 3_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
    b.stop.abort();
    await b.running;
  });

  it('says once whose lease it waits for and until when, and takes at once the lease of a holder known to be gone', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const crashed = (holder: string): StoredLease => ({
      resourceVersion: '7',
      record: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z', leaseTransitions: 1 },
    });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const elect = (holderGone: (id: string) => boolean) => {
      const stop = new AbortController();
      const elector = new LeaderElector({ store, identity: 'me', clock, logger, random: () => 0, holderGone, onStartedLeading: () => undefined });
      return { elector, stop, running: elector.run(stop.signal) };
    };

    store.lease = crashed('alive-elsewhere');
    const waiting = elect(() => false);
    await settle();
    await tick(clock, 6_000);
    expect(waiting.elector.isLeader()).toBe(false);
    const said = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('waiting for the lease held by alive-elsewhere'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ holder: 'alive-elsewhere', expiresAt: new Date(1_000_000 + 15_000).toISOString(), waitSeconds: 15 });
    waiting.stop.abort();
    await waiting.running;

    store.lease = crashed('gone-here');
    const taking = elect((id) => id === 'gone-here');
    await settle();
    expect(taking.elector.isLeader()).toBe(true);
    expect(store.lease.record).toMatchObject({ holderIdentity: 'me', leaseTransitions: 2 });
    expect(lines.some((l) => l.msg === 'the lease holder is a process of this host that is gone: taking the lease over now' && l.holder === 'gone-here')).toBe(true);
    taking.stop.abort();
    await taking.running;
  });

  it('keeps waiting while the holder keeps renewing', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a');
    await tick(clock, 1_000);
    const b = candidate(store, clock, 'b');
    await tick(clock, 60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.running, b.running]);
  });

  it('steps down when renewals fail past the renew deadline, and reports it', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const registry = new Registry();
    const a = candidate(store, clock, 'a', registry);
    await tick(clock, 1_000);
    expect(a.elector.isLeader()).toBe(true);
    const status = async () =>
      ((await registry.getSingleMetric('meshpilot_leader_election_status')!.get()).values[0]?.value);
    expect(await status()).toBe(1);

    store.down = true;
    await tick(clock, 8_000);
    // Renewals have failed for less than the 10 s deadline: still leading.
    expect(a.elector.isLeader()).toBe(true);
    await tick(clock, 4_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.working()).toBe(false);
    expect(a.stopped()).toBe(1);
    expect(await status()).toBe(0);

    // When the API comes back it contends again and, holding the lease itself, leads again.
    store.down = false;
    await tick(clock, 3_000);
    expect(a.elector.isLeader()).toBe(true);
    const transitions = (await registry.getSingleMetric('meshpilot_leader_election_transitions_total')!.get()).values;
    expect(transitions.find((v) => v.labels.event === 'acquired')?.value).toBe(2);
    expect(transitions.find((v) => v.labels.event === 'lost')?.value).toBe(1);
    a.stop.abort();
    await a.running;
  });

  it('does not release on stop when configured not to, so the lease simply expires', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a', undefined, false);
    await tick(clock, 1_000);
    a.stop.abort();
    await a.running;
    expect(store.lease?.record.holderIdentity).toBe('a');
  });

  it('refuses inconsistent timings', () => {
    expect(
      () =>
        new LeaderElector({
          store: new MemoryLeaseStore(),
          logger: pino({ level: 'silent' }),
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          onStartedLeading: () => undefined,
        }),
    ).toThrow(RangeError);
  });
});
