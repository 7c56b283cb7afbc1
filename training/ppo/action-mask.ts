// Which entries of the raw action vector matter for a route with n regions. decodeAction
// reads only the logits of present regions (and a single region's logit changes nothing: its
// weight is always 1), plus the retry and per-try scalars. Entries that cannot change what the
// environment does are left out of the log-probability and the entropy, so their sampling
// noise does not enter the policy gradient.
import { ACTION_SIZE, MAX_REGIONS } from '../../operator/policy/features.ts';

/** Writes the 0/1 mask for `regionCount` regions into `out` at `offset`. */
export function writeActionMask(regionCount: number, out: Float32Array, offset = 0): Float32Array {
  out.fill(0, offset, offset + ACTION_SIZE);
  if (regionCount >= 2) out.fill(1, offset, offset + Math.min(regionCount, MAX_REGIONS));
  out.fill(1, offset + MAX_REGIONS, offset + ACTION_SIZE);
  return out;
}

export function actionMask(regionCount: number): Float32Array {
  return writeActionMask(regionCount, new Float32Array(ACTION_SIZE));
}
