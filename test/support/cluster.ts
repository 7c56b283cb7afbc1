// The cluster an end-to-end test runs against: a real one when MESHPILOT_TEST_KUBECONFIG is
// set (the test gets its own namespace there, removed afterwards), otherwise the embedded
// control plane started as its own process (so a test can SIGKILL and restart it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig, CoreV1Api, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { JsonLinesChild, nodeBinary } from './child.ts';
import { loadCrds } from '../../operator/api/crds.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO_ROOT, 'operator/cli.ts');

export interface TestCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** A namespace that belongs to this test alone. */
  namespace: string;
  /** Set when running against the embedded control plane. */
  local?: {
    stateDir: string;
    process: JsonLinesChild;
    /** SIGKILLs the control plane and starts it again from the same state directory and port. */
    restart(signal?: NodeJS.Signals): Promise<void>;
  };
  objects: KubernetesObjectApi;
  close(): Promise<void>;
}

export interface LocalControlPlane {
  process: JsonLinesChild;
  url: string;
  kubeconfigPath: string;
}

/** Starts `meshpilot control-plane` on stateDir and waits for its ready line. */
export async function startControlPlane(stateDir: string, port = 0): Promise<LocalControlPlane> {
  const child = new JsonLinesChild(nodeBinary, [CLI, 'control-plane', '--state-dir', stateDir, '--api-port', String(port), '--log-level', 'warn']);
  const ready = await child.waitForLine((l) => typeof l.url === 'string' && typeof l.kubeconfig === 'string', 30_000, 'control plane ready line');
  return { process: child, url: ready.url as string, kubeconfigPath: ready.kubeconfig as string };
}

export async function testCluster(prefix: string): Promise<TestCluster> {
  const namespace = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
  const real = process.env.MESHPILOT_TEST_KUBECONFIG;
  let local: TestCluster['local'];
  let kubeconfigPath: string;
  let stateDir: string | undefined;
  if (real) {
    kubeconfigPath = real;
  } else {
    stateDir = await mkdtemp(join(tmpdir(), `meshpilot-${prefix}-`));
    let cp = await startControlPlane(stateDir);
    const port = Number(new URL(cp.url).port);
    kubeconfigPath = cp.kubeconfigPath;
    local = {
      stateDir,
      get process() {
        return cp.process;
      },
      async restart(signal: NodeJS.Signals = 'SIGKILL') {
        await cp.process.stop(signal);
        cp = await startControlPlane(stateDir!, port);
      },
    };
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  if (real) await applyCrds(objects);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return {
    kubeconfigPath,
    kubeConfig,
    namespace,
    ...(local ? { local } : {}),
    objects,
    async close() {
      if (real) {
        await core.deleteNamespace({ name: namespace }).catch(() => undefined);
        return;
      }
      await local!.process.stop('SIGKILL');
      await rm(stateDir!, { recursive: true, force: true });
    },
  };
}

/** Creates or updates the CRDs from crds/ on a real cluster. */
async function applyCrds(objects: KubernetesObjectApi): Promise<void> {
  for (const crd of loadCrds()) {
    await applyObject(objects, crd.manifest as unknown as KubernetesObject);
  }
}

/** Create, or merge-patch when it exists: the effect of `kubectl apply` for one object. */
export async function applyObject(objects: KubernetesObjectApi, obj: KubernetesObject): Promise<KubernetesObject> {
  try {
    return await objects.create(obj);
  } catch (e) {
    if ((e as { code?: number }).code !== 409) throw e;
    return objects.patch(obj, undefined, undefined, 'meshpilot-e2e', undefined, 'application/merge-patch+json');
  }
}
