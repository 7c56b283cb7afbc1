// An IntentSink that keeps the intents in force in memory: what tests assert against, and
// the operator's sink until an output is configured (it makes the current intents
// inspectable without any data plane).
import type { IntentSink } from './intent-sink.ts';
import type { RouteIntent } from './route-intent.ts';

export class MemoryIntentSink implements IntentSink {
  readonly #intents = new Map<string, RouteIntent>();
  #publishes = 0;

  async publish(intent: RouteIntent): Promise<void> {
    this.#intents.set(intent.key, structuredClone(intent));
    this.#publishes += 1;
  }

  async withdraw(routeKey: string): Promise<void> {
    this.#intents.delete(routeKey);
  }

  /** The intent in force for `routeKey`, or undefined when none is (never published or withdrawn). */
  get(routeKey: string): RouteIntent | undefined {
    return this.#intents.get(routeKey);
  }

  /** Every route key with an intent in force, sorted. */
  keys(): string[] {
    return [...this.#intents.keys()].sort();
  }

  /** How many publish calls this sink has accepted (including republishing an equal intent). */
  get publishCount(): number {
    return this.#publishes;
  }
}
