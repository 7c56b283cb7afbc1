// A token bucket on the injected clock: `take()` succeeds while tokens last and tokens come
// back at `perSecond`, up to `capacity`. One per ADS stream bounds what a flooding node costs.
import type { Clock } from '../base/clock.ts';

export class TokenBucket {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #clock: Clock;
  #tokens: number;
  #at: number;

  constructor(capacity: number, perSecond: number, clock: Clock) {
    this.#capacity = capacity;
    this.#perMs = perSecond / 1000;
    this.#clock = clock;
    this.#tokens = capacity;
    this.#at = clock.now();
  }

  /** Takes one token; false (and nothing taken) when the bucket is empty. */
  take(): boolean {
    const now = this.#clock.now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
