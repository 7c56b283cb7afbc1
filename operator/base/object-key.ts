// How objects are named in caches, work queues, logs and the decision log: `namespace/name`.
// A namespaced kind whose object leaves the namespace out lives in "default", as kubectl and
// the API server place it.

export const DEFAULT_NAMESPACE = 'default';

/** `namespace/name`, or `name` for cluster-scoped objects: the key objects are cached, queued and sorted by. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** The namespace of a namespaced object, "default" when its metadata leaves it out. */
export function namespaceOf(metadata: { namespace?: string | undefined }): string {
  return metadata.namespace ?? DEFAULT_NAMESPACE;
}

/** The key of a namespaced object: `namespace/name`, in "default" when its metadata leaves the namespace out. */
export function namespacedKey(metadata: { namespace?: string | undefined; name?: string | undefined }): string {
  return `${namespaceOf(metadata)}/${metadata.name}`;
}

/** The namespace part of a `namespace/name` key; undefined for a cluster-scoped key. */
export function keyNamespace(key: string): string | undefined {
  const slash = key.indexOf('/');
  return slash < 0 ? undefined : key.slice(0, slash);
}
