// How far an output has carried a route's current intent to the data plane: the xDS server
// reports, per route, the snapshot version that carries the intent and how many subscribed
// nodes ACKed, NACKed or have yet to answer it. The controller turns this into the
// XdsSynced condition; it never needs to know how the output tracks it.

export interface OutputSyncStatus {
  /** The configuration version that carries the route's current intent; undefined when the route is not served. */
  version: string | undefined;
  /** Nodes that use the route (subscribed to the resources it is served on). */
  nodes: number;
  /** Nodes holding everything of the route's current version. */
  acked: number;
  /** Nodes that rejected the route's current version (they keep the last one they accepted). */
  nacked: number;
  /** Nodes still on the way. */
  pending: number;
  /** What the NACKing nodes said (error_detail), de-duplicated. */
  nackMessages: string[];
  /** What some subscribed nodes cannot do of the route's intent, in words with how many nodes (none when all can). */
  notes: string[];
}

export interface SyncReporter {
  syncStatus(routeKey: string): OutputSyncStatus;
  /** Fires with a route key whenever that route's OutputSyncStatus may have changed. */
  onSyncChange(listener: (routeKey: string) => void): () => void;
}
