// Builders and readers for AdaptiveRoutes in end-to-end tests, through the real client.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, RESOURCES, type AdaptiveRoute, type Condition } from '../../operator/api/types.ts';

/**
 * A route over `weights`. Its policy is static unless `extra.policy` says otherwise: these
 * tests check that what the spec asks for reaches status and the data plane, which in enforce
 * mode is the policy's to decide.
 */
export function route(name: string, namespace: string, weights: Record<string, number>, extra: Record<string, unknown> = {}): AdaptiveRoute {
  return {
    apiVersion: API_VERSION,
    kind: 'AdaptiveRoute',
    metadata: { name, namespace },
    spec: {
      host: `${name}.${namespace}.svc.cluster.local`,
      destinations: Object.entries(weights).map(([region, weight]) => ({
        region,
        service: `${name}.${region}.svc.cluster.local`,
        port: 8080,
        weight,
      })),
      policy: { mode: 'static' },
      ...extra,
    },
  } as unknown as AdaptiveRoute;
}

export class Routes {
  readonly api: CustomObjectsApi;
  readonly namespace: string;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.namespace = namespace;
  }

  async create(obj: object, plural: string = RESOURCES.adaptiveRoute.plural): Promise<void> {
    await this.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural, body: obj });
  }

  async get(name: string): Promise<AdaptiveRoute> {
    return (await this.api.getNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: this.namespace, plural: RESOURCES.adaptiveRoute.plural, name,
    })) as AdaptiveRoute;
  }

  async list(): Promise<AdaptiveRoute[]> {
    const list = (await this.api.listNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace: this.namespace, plural: RESOURCES.adaptiveRoute.plural,
    })) as { items: AdaptiveRoute[] };
    return list.items;
  }

  /** Replaces the spec's destinations weights (a read-modify-write with optimistic concurrency). */
  async setWeights(name: string, weights: Record<string, number>): Promise<void> {
    for (;;) {
      const current = await this.get(name);
      current.spec.destinations = current.spec.destinations.map((d) => ({ ...d, weight: weights[d.region] ?? d.weight }));
      try {
        await this.api.replaceNamespacedCustomObject({
          group: GROUP, version: VERSION, namespace: this.namespace, plural: RESOURCES.adaptiveRoute.plural, name, body: current,
        });
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409) throw e;
      }
    }
  }

  /** Polls until every route satisfies `done`, or throws listing the ones that do not. */
  async waitFor(done: (r: AdaptiveRoute) => boolean, timeoutMs = 60_000, what = 'routes to converge'): Promise<AdaptiveRoute[]> {
    const deadline = Date.now() + timeoutMs;
    let last: AdaptiveRoute[] = [];
    while (Date.now() < deadline) {
      last = await this.list();
      if (last.length > 0 && last.every(done)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    const pending = last.filter((r) => !done(r)).map((r) => `${r.metadata.name}: ${JSON.stringify(r.status ?? {})}`);
    throw new Error(`timed out waiting for ${what}; not there: \n${pending.join('\n')}`);
  }
}

export function condition(r: AdaptiveRoute, type: string): Condition | undefined {
  return r.status?.conditions?.find((c) => c.type === type);
}

/** The route's status reflects its current generation. */
export function converged(r: AdaptiveRoute): boolean {
  const ready = condition(r, 'Ready');
  return r.status?.observedGeneration === r.metadata.generation && ready?.observedGeneration === r.metadata.generation;
}
