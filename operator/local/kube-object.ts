// The loose shape of any object the local API server stores: apiVersion, kind, metadata and
// whatever else the kind carries. Kind-specific shape is checked by the kind's handler (and
// for custom resources by the CRD's schema), never by this type.

/** ObjectMeta as stored; every field optional until the server fills it in. */
export interface StoredMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [k: string]: unknown;
}

/** A stored object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: StoredMeta;
  [k: string]: unknown;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key objects are stored and sorted by. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Deep copy, so that callers never mutate what the store holds. */
export function cloneObject<T>(o: T): T {
  return structuredClone(o);
}
