// The XdsSynced condition of an AdaptiveRoute, from the xDS server's per-route sync status:
// True once every subscribed node ACKed the version carrying the current intent; False while
// some have not answered, or when one rejected it (it then keeps its last ACKed config — the
// fail-static behaviour of the protocol — and the message carries the client's words);
// Unknown when no node subscribes, since nothing can confirm or deny it then.
import type { Condition, XdsSyncStatus } from '../api/types.ts';
import type { OutputSyncStatus } from '../routing/sync-status.ts';
import { CONDITION_TYPES, XDS_REASONS } from '../api/condition-types.ts';

export type XdsConditionInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** The CRD allows this many notes in status.xds.notes. */
const MAX_XDS_NOTES = 8;

/** status.xds for `sync`; pure. */
export function xdsStatus(sync: OutputSyncStatus): XdsSyncStatus {
  return {
    ...(sync.version !== undefined ? { version: sync.version } : {}),
    nodes: sync.nodes,
    acked: sync.acked,
    nacked: sync.nacked,
    pending: sync.pending,
    ...(sync.notes.length > 0 ? { notes: sync.notes.slice(0, MAX_XDS_NOTES) } : {}),
  };
}

/** The condition for `sync`; pure. */
export function xdsSyncedCondition(sync: OutputSyncStatus): XdsConditionInput {
  const version = sync.version ?? '(none)';
  if (sync.nacked > 0) {
    const said = sync.nackMessages.length > 0 ? `: ${sync.nackMessages.slice(0, 3).join('; ')}` : '';
    return {
      type: CONDITION_TYPES.xdsSynced,
      status: 'False',
      reason: XDS_REASONS.nacked,
      message: `${sync.nacked} of ${sync.nodes} nodes rejected version ${version} and keep their last accepted config${said}`,
    };
  }
  if (sync.nodes === 0) {
    return { type: CONDITION_TYPES.xdsSynced, status: 'Unknown', reason: XDS_REASONS.noNodes, message: `no xDS client subscribes to this route; version ${version} is ready to serve` };
  }
  if (sync.pending > 0) {
    return { type: CONDITION_TYPES.xdsSynced, status: 'False', reason: XDS_REASONS.pending, message: `${sync.acked} of ${sync.nodes} nodes ACKed version ${version}; waiting for ${sync.pending}` };
  }
  const notes = sync.notes.length > 0 ? `; ${sync.notes.join('; ')}` : '';
  return { type: CONDITION_TYPES.xdsSynced, status: 'True', reason: XDS_REASONS.acked, message: `all ${sync.nodes} subscribed nodes ACKed version ${version}${notes}` };
}
