// Every random stream of a training run is derived from the run's seed and the place it is
// used (iteration, episode, purpose), never carried from one iteration to the next. That is
// what lets a run resume from a checkpoint and draw exactly what the uninterrupted run would,
// and lets any worker run any episode with the same outcome.
import { hashString, prng } from '../../operator/base/random.ts';

/** A 32-bit seed for the stream named by `parts` under `seed`. Pure. */
export function deriveSeed(seed: number, ...parts: (number | string)[]): number {
  return hashString(`${seed >>> 0}/${parts.join('/')}`);
}

/** A uniform [0, 1) generator for the stream named by `parts` under `seed`. */
export function streamOf(seed: number, ...parts: (number | string)[]): () => number {
  return prng(deriveSeed(seed, ...parts));
}

/** A Fisher–Yates permutation of 0..n-1 drawn from `random`. */
export function permutation(n: number, random: () => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
