// Capacity that follows load after a delay (regions[].autoscale), as a HorizontalPodAutoscaler
// does: after a region's utilisation has stayed above its target for `delaySec`, its capacity
// (and concurrency) grows by `stepFactor`, up to `maxFactor`; after it has stayed below
// target / stepFactor (where one step less would still be under target) for `cooldownSec`, it
// shrinks back by a step. New capacity helps only after the delay, which is what a policy has
// to bridge.
import type { ScenarioRegion } from './scenario-schema.ts';

type Settings = NonNullable<ScenarioRegion['autoscale']>;

export class Autoscaler {
  readonly #settings: readonly (Settings | undefined)[];
  readonly #scale: Float64Array;
  readonly #aboveMs: Float64Array;
  readonly #belowMs: Float64Array;

  /** One entry per region: its autoscale settings, or undefined for a fixed capacity. */
  constructor(settings: readonly (Settings | undefined)[]) {
    this.#settings = settings;
    this.#scale = new Float64Array(settings.length).fill(1);
    this.#aboveMs = new Float64Array(settings.length);
    this.#belowMs = new Float64Array(settings.length);
  }

  /** Back to the capacity each region starts with. */
  reset(): void {
    this.#scale.fill(1);
    this.#aboveMs.fill(0);
    this.#belowMs.fill(0);
  }

  /** Region `r`'s capacity multiplier now. */
  factor(r: number): number {
    return this.#scale[r]!;
  }

  /** Region `r` ran at utilisation `rho` for `dt` seconds. */
  observe(r: number, rho: number, dt: number): void {
    const a = this.#settings[r];
    if (!a) return;
    const ms = dt * 1000;
    if (rho > a.targetUtilization) {
      this.#aboveMs[r]! += ms;
      this.#belowMs[r] = 0;
      if (this.#aboveMs[r]! >= a.delaySec * 1000 && this.#scale[r]! < a.maxFactor) {
        this.#scale[r] = Math.min(a.maxFactor, this.#scale[r]! * a.stepFactor);
        this.#aboveMs[r] = 0;
      }
      return;
    }
    this.#aboveMs[r] = 0;
    if (rho < a.targetUtilization / a.stepFactor && this.#scale[r]! > 1) {
      this.#belowMs[r]! += ms;
      if (this.#belowMs[r]! >= a.cooldownSec * 1000) {
        this.#scale[r] = Math.max(1, this.#scale[r]! / a.stepFactor);
        this.#belowMs[r] = 0;
      }
    } else this.#belowMs[r] = 0;
  }
}
