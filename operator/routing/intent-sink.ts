// The contract between the controller and every output that carries route intents to the
// data plane (xDS server, Gateway API / Istio writers, DTN gateway). The controller
// publishes each computed intent and withdraws it when the route goes away; outputs never
// read the policy or telemetry.
import type { RouteIntent } from './route-intent.ts';

export interface IntentSink {
  /**
   * Makes `intent` the one in force for `intent.key`, replacing any earlier one. Must be
   * idempotent: the controller republishes every route after a restart and on resync so a
   * fresh sink receives the full state. Rejects (preferably with a retriable
   * MeshpilotError) when the output could not take it; the controller then retries with
   * backoff and reports Ready=False.
   */
  publish(intent: RouteIntent): Promise<void>;
  /** Removes whatever the sink serves for `routeKey` (`namespace/name`). Idempotent. */
  withdraw(routeKey: string): Promise<void>;
}
