// The share of one (home, region) pair's requests that clients see answered within the latency
// objective, retries included: a request whose first k tries failed (each costing the mean
// failed-try time) has the rest of the objective for the try that succeeds.
import { mixtureCdf, NEGLIGIBLE, type Mixture } from './math.ts';

/**
 * P(client latency <= `objective`) for a pair whose tries fail with `q`, take round trip
 * `rtt`, cost `failLat` when they fail, and are served with service time `m`; with `R`
 * retries and per-try timeout `T`.
 */
export function withinObjective(q: number, rtt: number, failLat: number, m: Mixture, objective: number, R: number, T: number): number {
  const norm = T > rtt ? mixtureCdf(T - rtt, m) : 0;
  let p = 0;
  if (q < 1 && norm > 1e-12) {
    let w = 1 - q;
    for (let k = 0; k <= R && w > NEGLIGIBLE; k++, w *= q) {
      const y = Math.min(objective - k * failLat, T) - rtt;
      if (y <= 0) break;
      p += w * Math.min(1, mixtureCdf(y, m) / norm);
    }
  }
  if ((R + 1) * failLat <= objective) p += q ** (R + 1);
  return p;
}
