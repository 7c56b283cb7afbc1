// Status is written only when it would change: every write is a watch event, and a
// reconcile that always wrote would trigger itself forever. This module decides "changed".
import { canonicalJson } from '../base/canonical-json.ts';

/**
 * True when two status objects hold the same data: key order, and members that are
 * undefined or null (which a merge patch would not store), do not matter; array order does.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? {}, { dropNull: true }) === canonicalJson(b ?? {}, { dropNull: true });
}
