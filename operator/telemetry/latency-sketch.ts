// The mergeable latency sketch behind every window: Datadog's DDSketch (relative-error
// quantiles, exact merge). Kept behind this module so the library can be swapped without
// touching the window store.
import { DDSketch } from '@datadog/sketches-js';

/**
 * 2% relative error on every quantile (p99 = 250 ms reads as 245..255 ms): well inside what an
 * SLO decision can tell apart, at half the bins of 1% (memory per window is a benchmark figure).
 */
const RELATIVE_ACCURACY = 0.02;
/**
 * The library grows its bins 128 at a time. One sub-window of one route's latencies spans a
 * few dozen bins (a 10x spread is ~115 bins at 1%), so smaller chunks keep most windows at a
 * fraction of the default footprint; growth is amortised all the same.
 */
const CHUNK_BINS = 32;

export class LatencySketch {
  readonly #sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });

  constructor() {
    this.#sketch.store.chunkSize = CHUNK_BINS;
    this.#sketch.negativeStore.chunkSize = CHUNK_BINS;
  }

  /** Adds one latency in ms; the caller guarantees it is finite and >= 0. */
  add(latencyMs: number): void {
    this.#sketch.accept(latencyMs);
  }

  get count(): number {
    return this.#sketch.count;
  }

  merge(other: LatencySketch): void {
    if (other.count > 0) this.#sketch.merge(other.#sketch);
  }

  /** The latency at quantile q (0..1) in ms; null when the sketch is empty. */
  quantile(q: number): number | null {
    if (this.#sketch.count === 0) return null;
    const value = this.#sketch.getValueAtQuantile(q);
    return Number.isFinite(value) ? Math.max(0, value) : null;
  }
}
