// Routes each intent to the outputs its spec enables (intent.outputs) and withdraws it from
// the others, so that turning an output off in the spec removes the route from that output.
import type { IntentSink } from './intent-sink.ts';
import type { IntentOutputs, RouteIntent } from './route-intent.ts';

export type OutputName = keyof IntentOutputs;

export class OutputFanout implements IntentSink {
  readonly #outputs: [OutputName, IntentSink][];

  /** `outputs`: the outputs this process runs; an output left out is simply not served. */
  constructor(outputs: Partial<Record<OutputName, IntentSink>>) {
    this.#outputs = Object.entries(outputs).filter((e): e is [OutputName, IntentSink] => e[1] !== undefined);
  }

  /** Publishes to every enabled output and withdraws from the rest; rejects if any output did. */
  async publish(intent: RouteIntent): Promise<void> {
    await settleAll(this.#outputs.map(([name, sink]) => (intent.outputs[name] ? sink.publish(intent) : sink.withdraw(intent.key))));
  }

  async withdraw(routeKey: string): Promise<void> {
    await settleAll(this.#outputs.map(([, sink]) => sink.withdraw(routeKey)));
  }
}

/** Waits for every output (one failing must not stop the others), then rethrows the first failure. */
async function settleAll(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
