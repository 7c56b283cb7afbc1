// The simulated health checker of each region: a verdict flips only after its condition (the
// region down, or erring past the threshold) has held for the configured delay, as a real
// checker's consecutive-failure count makes it.
import type { ScenarioSpec } from './scenario-schema.ts';

export class HealthChecker {
  /** 1 while a region is judged healthy. */
  readonly healthy: Uint8Array;
  readonly #badForMs: Float64Array;
  readonly #goodForMs: Float64Array;
  readonly #config: ScenarioSpec['health'];

  constructor(n: number, config: ScenarioSpec['health']) {
    this.healthy = new Uint8Array(n);
    this.#badForMs = new Float64Array(n);
    this.#goodForMs = new Float64Array(n);
    this.#config = config;
  }

  /** Every region healthy, with nothing counted towards a flip. */
  reset(): void {
    this.healthy.fill(1);
    this.#badForMs.fill(0);
    this.#goodForMs.fill(0);
  }

  /** One tick of `dt` seconds in which region `r` was `bad` (down or erring past the threshold) or not. */
  observe(r: number, bad: boolean, dt: number): void {
    const h = this.#config;
    const ms = dt * 1000;
    if (bad) {
      this.#badForMs[r]! += ms;
      this.#goodForMs[r] = 0;
    } else {
      this.#goodForMs[r]! += ms;
      this.#badForMs[r] = 0;
    }
    if (this.healthy[r] && bad && this.#badForMs[r]! >= h.detectionDelaySec * 1000) this.healthy[r] = 0;
    else if (!this.healthy[r] && !bad && this.#goodForMs[r]! >= (h.recoveryDelaySec ?? h.detectionDelaySec) * 1000) this.healthy[r] = 1;
  }

  /** Whether region `r` counts as bad for the checker: down, or its error rate past the threshold. */
  isBad(down: boolean, errorRate: number): boolean {
    return down || errorRate > this.#config.errorRateThreshold;
  }
}
