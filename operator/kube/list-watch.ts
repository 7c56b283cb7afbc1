// The two calls an informer needs from the API server, as an interface: the kube client
// implements it over HTTP, and unit tests implement it in memory.

/** The part of any Kubernetes object an informer relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/** A metav1.Status, as the server sends in ERROR watch events and error responses. */
export interface ApiStatus {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: ApiStatus };

export interface ListResult<T> {
  items: T[];
  /** The collection's resourceVersion: where a watch continues from. */
  resourceVersion: string;
}

export interface ListWatcher<T> {
  /** Lists the collection. Rejects with a KubeApiError (statusCode set) on failure. */
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Watches from `resourceVersion` with bookmarks, calling `onEvent` for each event.
   * Resolves when the server ends the stream or `signal` aborts; rejects with a KubeApiError
   * when the watch cannot be opened or breaks (statusCode 410 when the version is too old).
   */
  watch(resourceVersion: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}
