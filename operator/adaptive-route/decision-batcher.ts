// Batches the decisions of concurrent reconciles into one PolicyService call, so that routes
// deciding at the same moment share one forward pass of their model (inference is cheap per
// row and costly per call). Requests that arrive in the same turn of the event loop form a
// batch; a batch never waits for more than that.
import type { Decision, DecisionRequest, PolicyService } from '../policy/policy.ts';

export type Decide = (request: DecisionRequest) => Promise<Decision>;

export function decisionBatcher(policy: Pick<PolicyService, 'decide'>, maxBatch = 1024): Decide {
  let queue: { request: DecisionRequest; resolve: (d: Decision) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    policy.decide(batch.map((b) => b.request)).then(
      (decisions) => batch.forEach((b, i) => b.resolve(decisions[i]!)),
      (e: unknown) => batch.forEach((b) => b.reject(e)),
    );
  };
  return (request) =>
    new Promise<Decision>((resolve, reject) => {
      queue.push({ request, resolve, reject });
      if (queue.length === 1) setImmediate(flush);
      else if (queue.length >= maxBatch) flush();
    });
}
