// The set-up every end-to-end test shares: a cluster of its own (real or embedded), a client
// for its routes, and operators started as child processes — all torn down after the suite,
// even when a test fails.
import { testCluster, type TestCluster } from './cluster.ts';
import { OperatorProcess, type OperatorOptions } from './operator-process.ts';
import { Routes } from './routes.ts';

export interface E2e {
  cluster: TestCluster;
  routes: Routes;
  /** Every operator started so far (killed in afterAll). */
  operators: OperatorProcess[];
  /** Starts `meshpilot run` against this suite's cluster and namespace. */
  start(identity: string, options?: Partial<OperatorOptions>): OperatorProcess;
}

/** Registers beforeAll/afterAll for a suite; use the returned object inside tests only. */
export function useE2e(prefix: string, defaults: Partial<OperatorOptions> = {}): E2e {
  const e2e = {
    operators: [] as OperatorProcess[],
    start(identity: string, options: Partial<OperatorOptions> = {}): OperatorProcess {
      const op = OperatorProcess.start({
        kubeconfigPath: e2e.cluster.kubeconfigPath,
        namespace: e2e.cluster.namespace,
        identity,
        ...defaults,
        ...options,
      });
      e2e.operators.push(op);
      return op;
    },
  } as E2e;
  beforeAll(async () => {
    e2e.cluster = await testCluster(prefix);
    e2e.routes = new Routes(e2e.cluster.kubeConfig, e2e.cluster.namespace);
  });
  afterAll(async () => {
    await Promise.all(e2e.operators.map((o) => o.kill('SIGKILL')));
    await e2e.cluster?.close();
  });
  return e2e;
}
