// An in-memory stand-in for the API server's handling of AdaptiveRoutes and ContactPlans as
// the reconcilers use it: a cache to read, status and metadata merge patches with
// resourceVersion bumps and optimistic concurrency, for unit tests of reconcile logic.
import { KubeApiError } from '../../../operator/kube/api-error.ts';
import type { ResourceRef } from '../../../operator/kube/client.ts';
import type { EventType, InvolvedObject } from '../../../operator/kube/events.ts';
import type { KubeObject } from '../../../operator/kube/list-watch.ts';
import { validateAdaptiveRoute, validateContactPlan } from '../../../operator/api/validate.ts';
import type { AdaptiveRoute, ContactPlan } from '../../../operator/api/types.ts';

type Obj = KubeObject & { spec?: unknown; status?: unknown };

export class FakeCollection<T extends Obj> {
  readonly objects = new Map<string, T>();
  #rv: { n: number };

  constructor(rv: { n: number }) {
    this.#rv = rv;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(namespace?: string): T[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }

  /** Creates or replaces the spec, bumping generation as the API server does on spec changes. */
  apply(obj: T): T {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const old = this.objects.get(key);
    const next = clone(obj);
    next.metadata = {
      ...(old?.metadata ?? {}),
      ...next.metadata,
      generation: (old?.metadata.generation ?? 0) + 1,
      resourceVersion: String(++this.#rv.n),
      uid: old?.metadata.uid ?? `uid-${obj.metadata.name}`,
    };
    if (old && 'status' in old) next.status = old.status;
    this.objects.set(key, next);
    return next;
  }

  remove(key: string): void {
    this.objects.delete(key);
  }

  patchStatus(namespace: string, name: string, status: unknown): T {
    const obj = this.#must(namespace, name);
    obj.status = clone(status);
    obj.metadata.resourceVersion = String(++this.#rv.n);
    return clone(obj);
  }

  patchMeta(namespace: string, name: string, patch: { metadata?: { finalizers?: string[]; resourceVersion?: string } }): T {
    const obj = this.#must(namespace, name);
    const rv = patch.metadata?.resourceVersion;
    if (rv !== undefined && rv !== obj.metadata.resourceVersion) throw new KubeApiError(409, 'conflict');
    if (patch.metadata?.finalizers) obj.metadata.finalizers = [...patch.metadata.finalizers];
    obj.metadata.resourceVersion = String(++this.#rv.n);
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(`${namespace}/${name}`);
    }
    return clone(obj);
  }

  #must(namespace: string, name: string): T {
    const obj = this.objects.get(`${namespace}/${name}`);
    if (!obj) throw new KubeApiError(404, 'not found');
    return obj;
  }
}

export class FakeCluster {
  readonly #rv = { n: 1 };
  readonly routes = new FakeCollection<AdaptiveRoute>(this.#rv);
  readonly plans = new FakeCollection<ContactPlan>(this.#rv);
  readonly events: { name: string; type: EventType; reason: string; message: string }[] = [];

  readonly writer = {
    patchStatus: async <T,>(resource: ResourceRef, namespace: string, name: string, status: object): Promise<T> =>
      this.#collection(resource).patchStatus(namespace, name, status) as T,
    patch: async <T,>(resource: ResourceRef, namespace: string, name: string, patch: object): Promise<T> =>
      this.#collection(resource).patchMeta(namespace, name, patch) as T,
  };

  readonly recorder = {
    record: async (obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> => {
      this.events.push({ name: obj.metadata.name, type, reason, message });
    },
  };

  #collection(resource: ResourceRef): FakeCollection<Obj> {
    return (resource.plural === 'adaptiveroutes' ? this.routes : this.plans) as unknown as FakeCollection<Obj>;
  }
}

export function exampleRoute(name = 'checkout', namespace = 'shop', spec: Record<string, unknown> = {}): AdaptiveRoute {
  const obj = {
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name, namespace },
    spec: {
      host: `${name}.${namespace}.svc.cluster.local`,
      destinations: [
        { region: 'eu-west', service: `${name}.eu-west.svc`, port: 8080, weight: 60 },
        { region: 'us-east', service: `${name}.us-east.svc`, port: 8080, weight: 40 },
      ],
      ...spec,
    },
  };
  const result = validateAdaptiveRoute(obj);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

export function examplePlan(name = 'mars-relay', namespace = 'shop', contacts?: unknown[]): ContactPlan {
  const obj = {
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'ContactPlan',
    metadata: { name, namespace },
    spec: {
      epoch: '2025-01-01T00:00:00Z',
      nodes: [{ name: 'earth', region: 'eu-west' }, { name: 'mars', region: 'us-east' }],
      contacts: contacts ?? [
        { from: 'earth', to: 'mars', start: 0, end: 3600, rateBitsPerSecond: 1e6, oneWayLightTime: 600, confidence: 1 },
        { from: 'mars', to: 'earth', start: 7200, end: 10800, rateBitsPerSecond: 1e6, oneWayLightTime: 600, confidence: 0.9 },
      ],
    },
  };
  const result = validateContactPlan(obj);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

/**
 * A JSON round trip, as the API server's storage does. (Not structuredClone: under jest's VM
 * modules that returns arrays of another realm, which the CEL evaluator does not accept.)
 */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
