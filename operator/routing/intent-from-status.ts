// The intent the leader decided for a route, as its status records it. Every replica serves
// the data plane (its xDS server answers whichever proxies connect to it), but only the leader
// decides; a standby rebuilds the decided intent from the spec and the decision in status, so
// that both replicas serve the same configuration and a failover changes nothing on the wire.
import { parseDuration } from '../base/duration.ts';
import type { AdaptiveRoute } from '../api/types.ts';
import { validateAdaptiveRoute } from '../api/validate.ts';
import { intentFromSpec, type RouteIntent } from './route-intent.ts';

/**
 * The intent in force for `route`, or undefined when status does not (yet) record a decision
 * for the current generation: the leader has not reconciled it, or rejected the spec (then
 * the last good intent, already served, stays). Pure; never throws.
 */
export function intentFromStatus(route: AdaptiveRoute): RouteIntent | undefined {
  const status = route.status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  if (!status || status.observedGeneration !== route.metadata.generation || ready?.status !== 'True') return undefined;
  const valid = validateAdaptiveRoute(route);
  if (!valid.ok || !status.weights) return undefined;
  try {
    const intent = intentFromSpec(valid.value);
    const decided = new Map(status.weights.map((w) => [w.region, w.weight]));
    if (intent.destinations.some((d) => !decided.has(d.region))) return undefined;
    intent.destinations = intent.destinations.map((d) => ({ ...d, weight: decided.get(d.region) ?? 0 }));
    if (status.retryAttempts !== undefined) intent.retries.attempts = status.retryAttempts;
    if (status.perTryTimeout !== undefined) intent.retries.perTryTimeoutMs = parseDuration(status.perTryTimeout);
    if (status.timeout !== undefined) intent.timeoutMs = parseDuration(status.timeout);
    return intent;
  } catch {
    return undefined;
  }
}
