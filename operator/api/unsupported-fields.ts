// The spec fields this version of meshpilot accepts but no output carries yet. The CRD has
// them so that manifests written for later versions stay valid, and a route that sets one
// must hear so, in status (Supported=False), in an Event and from `meshpilot validate`,
// rather than believe it is served. Each entry goes when its output lands.
import type { AdaptiveRouteSpec } from './types.ts';

export interface UnsupportedField {
  /** The field path, as validation errors name fields. */
  field: string;
  /** What the spec asks for, and what happens instead. */
  message: string;
}

/** The fields of `spec` (validated and defaulted) that ask for something not implemented yet; empty when none. */
export function unsupportedFields(spec: AdaptiveRouteSpec): UnsupportedField[] {
  const out: UnsupportedField[] = [];
  if (spec.tls.mode !== 'classical') {
    out.push({ field: 'spec.tls.mode', message: `"${spec.tls.mode}" is not implemented yet: no channel meshpilot configures uses it, and the xDS it serves carries no TLS settings` });
  }
  if (spec.outputs.gatewayApi?.enabled) {
    out.push({ field: 'spec.outputs.gatewayApi', message: 'not implemented yet: no HTTPRoute is written; only outputs.xds carries this route' });
  }
  if (spec.outputs.istio?.enabled) {
    out.push({ field: 'spec.outputs.istio', message: 'not implemented yet: no VirtualService or DestinationRule is written; only outputs.xds carries this route' });
  }
  if (spec.delayTolerant) {
    out.push({ field: 'spec.delayTolerant', message: 'not implemented yet: no bundle is stored or forwarded over the contact plan; the route is served as if the field were absent' });
  }
  return out;
}
