// Every condition type meshpilot writes in status, and every reason it gives in a condition
// or an Event, in one table: `kubectl wait --for=condition=...`, alerts and dashboards key on
// these strings, so they are part of the API and change only with it. CamelCase, as
// Kubernetes expects. README.md ("Status and conditions") documents each one.

export const CONDITION_TYPES = {
  /** The spec is valid and its references resolve. */
  valid: 'Valid',
  /** Something is served (AdaptiveRoute), or contacts lie ahead (ContactPlan). */
  ready: 'Ready',
  /** The policy reads fresh telemetry. */
  telemetryFresh: 'TelemetryFresh',
  /** Every subscribed xDS node ACKed the current intent. */
  xdsSynced: 'XdsSynced',
  /** The referenced model decides (or decides in shadow). */
  policyModel: 'PolicyModel',
  /** Every field the spec sets is carried by an output; False names the ones that are not yet. */
  supported: 'Supported',
} as const;

/** AdaptiveRoute: Valid and Ready, and the Events of a route's intent. */
export const ROUTE_REASONS = {
  specValid: 'SpecValid',
  intentPublished: 'IntentPublished',
  invalidSpec: 'InvalidSpec',
  contactPlanNotFound: 'ContactPlanNotFound',
  contactPlanInvalid: 'ContactPlanInvalid',
  publishFailed: 'PublishFailed',
  intentChanged: 'IntentChanged',
} as const;

/** ContactPlan: Valid and Ready. */
export const PLAN_REASONS = {
  specValid: 'SpecValid',
  invalidSpec: 'InvalidSpec',
  contactsAhead: 'ContactsAhead',
  horizonPassed: 'HorizonPassed',
} as const;

/** TelemetryFresh, and the Events when data goes stale and comes back. */
export const TELEMETRY_REASONS = {
  fresh: 'TelemetryFresh',
  stale: 'TelemetryStale',
  awaiting: 'AwaitingTelemetry',
  noSource: 'NoTelemetrySource',
} as const;

/** XdsSynced, and the Event when a node rejects the intent. */
export const XDS_REASONS = {
  acked: 'AllNodesAcked',
  pending: 'AwaitingAck',
  nacked: 'NodesRejected',
  noNodes: 'NoSubscribers',
} as const;

/** PolicyModel, and the Events of a refused model and of the guard's rollback. */
export const POLICY_REASONS = { loaded: 'ModelLoaded', refused: 'ModelRefused', rollback: 'Rollback' } as const;

/** Supported, and the Event when a route asks for something no output carries yet. */
export const SUPPORT_REASONS = { allSupported: 'AllFieldsSupported', notImplemented: 'NotImplemented' } as const;
