// How far an output has carried a route's current intent to the data plane: the xDS server
// reports, per route, the snapshot version that carries the intent and how many subscribed
// nodes ACKed, NACKed or have yet to answer it. The controller turns this into the
// XdsSynced condition; it never needs to know how the output tracks it.

export interface OutputSyncStatus {
  /** Version of the configuration that carries the route's current intent. */
  version: string | undefined;
  /** Nodes subscribed to the route's resources. */
  nodes: number;
  acked: number;
  nacked: number;
  pending: number;
  /** What the NACKing nodes said (error_detail), deduplicated. */
  nackMessages: string[];
}

export interface SyncReporter {
  syncStatus(routeKey: string): OutputSyncStatus;
  /** Fires with a route key whenever that route's OutputSyncStatus may have changed. */
  onSyncChange(listener: (routeKey: string) => void): () => void;
}
