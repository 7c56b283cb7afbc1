// SIGKILL the operator at random points while it reconciles, restart it, and check that every
// route converges to the status a clean run computes: nothing is kept only in memory.
import { useE2e } from '../support/e2e.ts';
import { route, converged, condition } from '../support/routes.ts';
import type { AdaptiveRoute } from '../../operator/api/types.ts';

const ROUTES = 12;
/**
 * Longer than the test: the clean run at the end must find no decision due. With the default
 * 30 s, a loaded machine took 34 s from the survivor's last decision to the clean run's first
 * reconcile, and the clean run rightly decided again (a newer lastDecisionTime, step 2).
 */
const POLICY = { policy: { mode: 'static', decisionInterval: '1h' } };

/** Deterministic pseudo-random numbers, so a failure can be replayed from the seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('operator crash recovery', () => {
  const e2e = useE2e('e2e-crash', { extraArgs: ['--leader-elect', 'false', '--workers', '2'] });
  const seed = Number(process.env.MESHPILOT_TEST_SEED ?? Date.now() % 100000);
  const random = prng(seed);

  it(`converges every route to the same status after repeated SIGKILLs (seed ${seed})`, async () => {
    const { cluster, routes } = e2e;
    const start = (identity: string) => e2e.start(identity);
    const expected = new Map<string, Record<string, number>>();
    for (let i = 0; i < ROUTES; i++) {
      const a = Math.floor(random() * 101);
      const weights = { 'eu-west': a, 'us-east': 100 - a };
      expected.set(`r${i}`, weights);
      await routes.create(route(`r${i}`, cluster.namespace, weights, POLICY));
    }
    // A route whose contact plan does not exist: it must converge to Ready=False, not loop.
    await routes.create(
      route('dangling', cluster.namespace, { 'eu-west': 50, 'us-east': 50 }, {
        ...POLICY,
        delayTolerant: { contactPlanRef: { name: 'no-such-plan' } },
      }),
    );

    for (let round = 0; round < 6; round++) {
      const op = start(`crash-${round}`);
      // Odd rounds kill it while it starts up, even rounds while it lists and reconciles.
      if (round % 2 === 0) await op.endpoints();
      // Change a few specs while the operator runs, then kill it somewhere in the middle.
      for (let k = 0; k < 3; k++) {
        const name = `r${Math.floor(random() * ROUTES)}`;
        const a = Math.floor(random() * 101);
        const weights = { 'eu-west': a, 'us-east': 100 - a };
        expected.set(name, weights);
        await routes.setWeights(name, weights);
        await new Promise((r) => setTimeout(r, 20 + random() * 400));
      }
      await op.kill('SIGKILL');
    }

    const survivor = start('crash-final');
    const final = await routes.waitFor(converged, 90_000, 'every route to reflect its generation');
    for (const r of final) {
      if (r.metadata.name === 'dangling') {
        expect(condition(r, 'Ready')).toMatchObject({ status: 'False', reason: 'ContactPlanNotFound' });
        expect(condition(r, 'Ready')?.message).toContain('spec.delayTolerant.contactPlanRef.name');
        continue;
      }
      expect(condition(r, 'Ready')).toMatchObject({ status: 'True' });
      const weights = Object.fromEntries((r.status?.weights ?? []).map((w) => [w.region, w.weight]));
      expect(weights).toEqual(expected.get(r.metadata.name));
    }

    // A clean operator started on the converged state decides exactly the same: the status
    // written after the crashes is the one a clean run computes. (Only the xDS part differs:
    // each process serves its own configuration versions.)
    await survivor.kill('SIGTERM');
    const decisions = (list: AdaptiveRoute[]) =>
      Object.fromEntries(
        list.map((r) => {
          const { xds: _xds, conditions, ...rest } = r.status ?? {};
          return [r.metadata.name, { ...rest, conditions: conditions?.filter((c) => c.type !== 'XdsSynced') }];
        }),
      );
    const before = decisions(final);
    const clean = start('clean');
    await clean.endpoints();
    await waitUntil(async () => (await clean.metric('meshpilot_reconcile_total', { controller: 'adaptiveroute' })) >= ROUTES + 1);
    await routes.waitFor(converged, 30_000);
    expect(decisions(await routes.list())).toEqual(before);
    await clean.kill('SIGTERM');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not reached');
}
