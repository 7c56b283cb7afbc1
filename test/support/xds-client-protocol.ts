// The stdin/stdout protocol between XdsClientProcess (xds-client.ts) and its child
// (xds-client-main.ts), and the call counts both sides share.

/** Outcomes of a set of RPCs, as the client saw them. */
export interface CallCounts {
  ok: number;
  failed: number;
  /** Successful replies by the region that answered. */
  byRegion: Record<string, number>;
  /** Successful replies by backend id. */
  byBackend: Record<string, number>;
  /** Failures by gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
  failuresByCode: Record<string, number>;
  /** The first few failure messages, for assertion messages. */
  errors: string[];
}

export type ClientCommand =
  | { id: number; op: 'burst'; n: number; concurrency: number; deadlineMs: number }
  | { id: number; op: 'load'; concurrency: number; pauseMs: number; deadlineMs: number }
  | { id: number; op: 'snapshot' }
  | { id: number; op: 'stopLoad' };

export function emptyCounts(): CallCounts {
  return { ok: 0, failed: 0, byRegion: {}, byBackend: {}, failuresByCode: {}, errors: [] };
}

function subtract(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) {
    const d = v - (b[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** What happened between two cumulative snapshots of the same load (`later` minus `earlier`). */
export function countsBetween(earlier: CallCounts, later: CallCounts): CallCounts {
  return {
    ok: later.ok - earlier.ok,
    failed: later.failed - earlier.failed,
    byRegion: subtract(later.byRegion, earlier.byRegion),
    byBackend: subtract(later.byBackend, earlier.byBackend),
    failuresByCode: subtract(later.failuresByCode, earlier.failuresByCode),
    errors: later.errors.slice(earlier.errors.length),
  };
}
