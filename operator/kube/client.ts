// The Kubernetes edge: loads a kubeconfig and offers the few typed calls the controllers
// need (list/watch, get, create, replace, delete, status and metadata merge patches of
// custom resources; Leases; Events), so nothing above this folder touches client-node.
// Every error leaves as a KubeApiError with the HTTP status.
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { ConfigError } from '../base/errors.ts';
import { isNotFound, toKubeApiError } from './api-error.ts';
import type { CoreEvent, EventStore } from './events.ts';
import type { LeaseRecord, LeaseStore, StoredLease } from './leader-election.ts';
import type { KubeObject, ListResult, ListWatcher, WatchEvent } from './list-watch.ts';
import { mergePatchOptions } from './patch.ts';
import { namespaceOf } from '../base/object-key.ts';

/** A namespaced resource served under /apis/{group}/{version}. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };

export interface KubeConfigSource {
  /** Path of a kubeconfig file. */
  kubeconfigPath?: string;
  /** Use the service account of the pod (KUBERNETES_SERVICE_HOST and the mounted token). */
  inCluster?: boolean;
}

/**
 * Loads a KubeConfig from a file, from the pod's service account, or (neither given) the
 * client's default chain: $KUBECONFIG, ~/.kube/config, then in-cluster. Throws ConfigError
 * when the file cannot be read or names no cluster.
 */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (source.kubeconfigPath) kc.loadFromFile(source.kubeconfigPath);
    else if (source.inCluster) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (e) {
    throw new ConfigError(`cannot load kubeconfig${source.kubeconfigPath ? ` ${source.kubeconfigPath}` : ''}: ${(e as Error).message}`, { cause: e });
  }
  if (!kc.getCurrentCluster()) {
    throw new ConfigError(`kubeconfig${source.kubeconfigPath ? ` ${source.kubeconfigPath}` : ''} has no current cluster`);
  }
  return kc;
}

export interface ListWatcherOptions {
  /** Ask the server to end each watch after this long (randomised ×1–2, as client-go does). Default 300 s. */
  watchTimeoutSeconds?: number;
  /** Page size of lists. Default 500. */
  pageSize?: number;
}

interface RawList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** The facade the controllers use; one per process, built from a KubeConfig. */
export class KubeApi {
  readonly kubeConfig: KubeConfig;
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #watch: Watch;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#watch = new Watch(kubeConfig);
  }

  /** List+watch of `resource` in `namespace` (all namespaces when undefined), for an Informer. */
  listWatcher<T extends KubeObject>(resource: ResourceRef, namespace?: string, options: ListWatcherOptions = {}): ListWatcher<T> {
    const what = `${resource.plural}.${resource.group}`;
    const base = `/apis/${resource.group}/${resource.version}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${resource.plural}`;
    const timeout = options.watchTimeoutSeconds ?? 300;
    const pageSize = options.pageSize ?? 500;
    return {
      list: async (): Promise<ListResult<T>> => {
        const items: T[] = [];
        let resourceVersion = '';
        let token: string | undefined;
        try {
          do {
            const common = { group: resource.group, version: resource.version, plural: resource.plural, limit: pageSize, _continue: token };
            const page = (namespace
              ? await this.#custom.listNamespacedCustomObject({ ...common, namespace })
              : await this.#custom.listClusterCustomObject(common)) as RawList<T>;
            items.push(...(page.items ?? []));
            resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
            token = page.metadata?.continue || undefined;
          } while (token);
        } catch (e) {
          throw toKubeApiError(e, `list ${what}`);
        }
        // List items carry no kind; the informer's consumers expect whole objects.
        const apiVersion = `${resource.group}/${resource.version}`;
        for (const item of items) {
          item.apiVersion ??= apiVersion;
          item.kind ??= resource.kind;
        }
        return { items, resourceVersion };
      },
      watch: (resourceVersion: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          let stream: AbortController | undefined;
          let settled = false;
          const finish = (err: unknown) => {
            if (settled) return;
            settled = true;
            signal.removeEventListener('abort', onAbort);
            stream?.abort();
            // client-node ends an idle watch after 30 s with a TimeoutError: a normal end.
            const benign = !err || signal.aborted || (err as { name?: string }).name === 'TimeoutError' || (err as { name?: string }).name === 'AbortError';
            if (benign) resolve();
            else reject(toKubeApiError(err, `watch ${what}`));
          };
          const onAbort = () => finish(undefined);
          if (signal.aborted) return resolve();
          signal.addEventListener('abort', onAbort, { once: true });
          this.#watch
            .watch(
              base,
              {
                resourceVersion,
                allowWatchBookmarks: true,
                timeoutSeconds: Math.round(timeout * (1 + Math.random())),
              },
              (type: string, object: unknown) => onEvent({ type, object } as WatchEvent<T>),
              finish,
            )
            .then(
              (controller) => {
                stream = controller;
                if (settled) controller.abort();
              },
              finish,
            );
        }),
    };
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(resource: ResourceRef, namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({ ...ref(resource), namespace, name })) as T;
    } catch (e) {
      const err = toKubeApiError(e, `get ${resource.plural} ${namespace}/${name}`);
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates `obj` in its namespace; 409 if it exists. */
  async create<T extends KubeObject>(resource: ResourceRef, obj: T): Promise<T> {
    const namespace = namespaceOf(obj.metadata);
    try {
      return (await this.#custom.createNamespacedCustomObject({ ...ref(resource), namespace, body: obj })) as T;
    } catch (e) {
      throw toKubeApiError(e, `create ${resource.plural} ${namespace}/${obj.metadata.name}`);
    }
  }

  /** Replaces `obj` (PUT); 409 if its resourceVersion is stale. */
  async replace<T extends KubeObject>(resource: ResourceRef, obj: T): Promise<T> {
    const namespace = namespaceOf(obj.metadata);
    const name = obj.metadata.name;
    try {
      return (await this.#custom.replaceNamespacedCustomObject({ ...ref(resource), namespace, name, body: obj })) as T;
    } catch (e) {
      throw toKubeApiError(e, `replace ${resource.plural} ${namespace}/${name}`);
    }
  }

  /** Deletes the object; resolves also when it is already gone. */
  async delete(resource: ResourceRef, namespace: string, name: string): Promise<void> {
    try {
      await this.#custom.deleteNamespacedCustomObject({ ...ref(resource), namespace, name });
    } catch (e) {
      const err = toKubeApiError(e, `delete ${resource.plural} ${namespace}/${name}`);
      if (!isNotFound(err)) throw err;
    }
  }

  /** JSON merge patch of the `/status` subresource with `{ status }`; returns the stored object. */
  async patchStatus<T extends KubeObject>(resource: ResourceRef, namespace: string, name: string, status: object): Promise<T> {
    try {
      return (await this.#custom.patchNamespacedCustomObjectStatus(
        { ...ref(resource), namespace, name, body: { status } },
        mergePatchOptions(),
      )) as T;
    } catch (e) {
      throw toKubeApiError(e, `patch status of ${resource.plural} ${namespace}/${name}`);
    }
  }

  /** JSON merge patch of the object (e.g. `{ metadata: { finalizers, resourceVersion } }`). */
  async patch<T extends KubeObject>(resource: ResourceRef, namespace: string, name: string, patch: object): Promise<T> {
    try {
      return (await this.#custom.patchNamespacedCustomObject(
        { ...ref(resource), namespace, name, body: patch },
        mergePatchOptions(),
      )) as T;
    } catch (e) {
      throw toKubeApiError(e, `patch ${resource.plural} ${namespace}/${name}`);
    }
  }

  /** The Lease `namespace/name` as leader election needs it. */
  leaseStore(namespace: string, name: string): LeaseStore {
    const toStored = (lease: { metadata?: { resourceVersion?: string }; spec?: Partial<LeaseRecord> }): StoredLease => ({
      resourceVersion: lease.metadata?.resourceVersion ?? '',
      record: {
        holderIdentity: lease.spec?.holderIdentity ?? '',
        leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
        acquireTime: lease.spec?.acquireTime,
        renewTime: lease.spec?.renewTime,
        leaseTransitions: lease.spec?.leaseTransitions ?? 0,
      },
    });
    const body = (record: LeaseRecord, resourceVersion?: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: record,
    });
    type RawLease = Parameters<typeof toStored>[0] & KubeObject;
    return {
      description: `${namespace}/${name}`,
      get: async () => {
        const lease = await this.get<RawLease>(LEASES, namespace, name);
        return lease && toStored(lease);
      },
      create: async (record) => toStored(await this.create<RawLease>(LEASES, body(record) as RawLease)),
      update: async (record, resourceVersion) =>
        toStored(await this.replace<RawLease>(LEASES, body(record, resourceVersion) as RawLease)),
    };
  }

  /** Core/v1 Events, for the EventRecorder. */
  eventStore(): EventStore {
    return {
      create: async (namespace, event) => {
        try {
          return (await this.#core.createNamespacedEvent({ namespace, body: event as never })) as unknown as CoreEvent;
        } catch (e) {
          throw toKubeApiError(e, `create event ${namespace}/${event.metadata.name}`);
        }
      },
      patch: async (namespace, name, patch) => {
        try {
          return (await this.#core.patchNamespacedEvent({ namespace, name, body: patch }, mergePatchOptions())) as unknown as CoreEvent;
        } catch (e) {
          throw toKubeApiError(e, `patch event ${namespace}/${name}`);
        }
      },
    };
  }
}

function ref(resource: ResourceRef) {
  return { group: resource.group, version: resource.version, plural: resource.plural };
}
