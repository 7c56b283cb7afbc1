// The embedded control plane is SIGKILLed under a running operator and restarted from its
// state directory: no object is lost, and the operator reconnects and keeps reconciling.
// (Against a real cluster, MESHPILOT_TEST_KUBECONFIG, there is no control plane to kill.)
import { useE2e } from '../support/e2e.ts';
import { route, converged } from '../support/routes.ts';

const localOnly = process.env.MESHPILOT_TEST_KUBECONFIG ? describe.skip : describe;

localOnly('control plane restart under a running operator', () => {
  const e2e = useE2e('e2e-cp');

  it('loses no object and reconciles changes made after the restart', async () => {
    const { cluster, routes } = e2e;
    const operator = e2e.start('survivor', { leaseDuration: '6s', renewDeadline: '5s', retryPeriod: '500ms' });
    for (let i = 0; i < 5; i++) await routes.create(route(`r${i}`, cluster.namespace, { 'eu-west': 10 * i, 'us-east': 100 - 10 * i }));
    const before = await routes.waitFor(converged, 30_000);

    await cluster.local!.restart('SIGKILL');

    const after = await routes.list();
    const identity = (r: (typeof before)[number]) => [r.metadata.name, r.metadata.uid, r.metadata.generation, r.metadata.resourceVersion, r.status];
    expect(after.map(identity)).toEqual(before.map(identity));

    await routes.setWeights('r1', { 'eu-west': 90, 'us-east': 10 });
    const [r1] = await routes.waitFor((r) => r.metadata.name !== 'r1' || (converged(r) && r.status?.weights?.[0]?.weight === 90), 30_000);
    expect(r1).toBeDefined();
    expect((await routes.get('r1')).status?.weightSummary).toBe('eu-west=90,us-east=10');
    expect(operator.child.running).toBe(true);
  });
});
