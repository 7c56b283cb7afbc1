// The embedded control plane is SIGKILLed under a running operator and restarted from its
// state directory: no object is lost, and the operator reconnects and keeps reconciling.
// (Against a real cluster, MESHPILOT_TEST_KUBECONFIG, there is no control plane to kill.)
import { testCluster, type TestCluster } from '../support/cluster.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { Routes, route, converged } from '../support/routes.ts';

const localOnly = process.env.MESHPILOT_TEST_KUBECONFIG ? describe.skip : describe;

localOnly('control plane restart under a running operator', () => {
  let cluster: TestCluster;
  let routes: Routes;
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    cluster = await testCluster('e2e-cp');
    routes = new Routes(cluster.kubeConfig, cluster.namespace);
  });
  afterAll(async () => {
    await operator?.kill('SIGKILL');
    await cluster?.close();
  });

  it('loses no object and reconciles changes made after the restart', async () => {
    operator = OperatorProcess.start({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: cluster.namespace,
      identity: 'survivor',
      leaseDuration: '6s',
      renewDeadline: '5s',
      retryPeriod: '500ms',
    });
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
