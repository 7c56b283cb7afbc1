// Where the tries of a request go with cross-region retries (scenario route.retries.crossRegion,
// spec.retries.crossRegion). Serving gives each region's cluster its own region at priority 0
// and the others after it in failover order (operator/xds/build-cluster.ts), and Envoy's
// previous_priorities retry priority skips the priorities a request already tried: retry k of
// a request that picked region r goes to the k-th region of r's list, and once every region
// was tried the list starts over (Envoy resets the excluded priorities).
import { failoverOrder } from '../../operator/api/priority-groups.ts';
import type { ScenarioRegion } from './scenario-schema.ts';

export class RetryOrder {
  readonly #n: number;
  /** At r × n + k: the k-th region of r's list. */
  readonly #order: Int32Array;

  constructor(regions: readonly ScenarioRegion[]) {
    const n = regions.length;
    this.#n = n;
    this.#order = new Int32Array(n * n);
    const failover = failoverOrder(regions.map((r, i) => ({ priority: r.priority, i }))).map((x) => x.i);
    for (let r = 0; r < n; r++) {
      this.#order[r * n] = r;
      let k = 1;
      for (const other of failover) if (other !== r) this.#order[r * n + k++] = other;
    }
  }

  /** The region of try `k` (0: the first try) of a request that picked region `r`. */
  regionOf(r: number, k: number): number {
    return this.#order[r * this.#n + (k % this.#n)]!;
  }
}
