// Two replicas of the operator: exactly one reconciles; when it dies the other takes over
// within the lease duration, and when it is stopped gracefully the lease is handed over at once.
import { useE2e } from '../support/e2e.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { route, converged } from '../support/routes.ts';

const LEASE_MS = 4000;
const RETRY_MS = 500;

describe('leader election across replicas', () => {
  const e2e = useE2e('e2e-leader', { leaseDuration: `${LEASE_MS}ms`, renewDeadline: '3s', retryPeriod: `${RETRY_MS}ms` });
  const start = (identity: string) => e2e.start(identity);

  async function leaderOf(ops: OperatorProcess[], timeoutMs: number): Promise<OperatorProcess> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = await Promise.all(ops.map((o) => o.metric('meshpilot_leader_election_status').catch(() => 0)));
      const leaders = ops.filter((_, i) => status[i] === 1);
      expect(leaders.length).toBeLessThanOrEqual(1);
      if (leaders.length === 1) return leaders[0]!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no leader elected');
  }

  it('lets exactly one replica reconcile and hands over when it dies', async () => {
    const a = start('replica-a');
    const b = start('replica-b');
    const leader = await leaderOf([a, b], 20_000);
    const standby = leader === a ? b : a;

    await e2e.routes.create(route('checkout', e2e.cluster.namespace, { 'eu-west': 70, 'us-east': 30 }));
    await e2e.routes.waitFor(converged, 30_000);
    // The reconcile is counted when it returns, a moment after its status write is visible.
    await eventually(async () => (await leader.metric('meshpilot_reconcile_total')) > 0, 'the leader counted its reconciles');
    expect(await standby.metric('meshpilot_reconcile_total')).toBe(0);
    // The standby still serves probes: it is ready to take over.
    const { healthPort } = await standby.endpoints();
    expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const next = await leaderOf([standby], LEASE_MS * 3);
    const takeoverMs = Date.now() - killedAt;
    // The standby may have seen the last renewal up to one retry period late, and notices the
    // expiry on its next retry: that is the bound client-go's algorithm gives.
    // (plus slack for a loaded 2-core machine running other suites alongside).
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS + 2500);

    await e2e.routes.setWeights('checkout', { 'eu-west': 20, 'us-east': 80 });
    const [r] = await e2e.routes.waitFor((x) => converged(x) && x.status?.weights?.[0]?.weight === 20, 30_000);
    expect(r!.status?.weights).toEqual([
      { region: 'eu-west', weight: 20 },
      { region: 'us-east', weight: 80 },
    ]);
    await eventually(async () => (await next.metric('meshpilot_reconcile_total')) > 0, 'the new leader counted its reconciles');
  });

  it('releases the lease on SIGTERM so that a standby takes over at once', async () => {
    const current = await leaderOf(e2e.operators.filter((o) => o.child.running), 20_000);
    const c = start('replica-c');
    await c.endpoints();
    const stoppedAt = Date.now();
    const exit = await current.kill('SIGTERM');
    expect(exit.code).toBe(0);
    await leaderOf([c], LEASE_MS * 3);
    // Released, not expired: well inside one lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS);
  });
});

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
