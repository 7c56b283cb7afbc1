// The AdaptiveRoute kind as the reconciler addresses it: its API resource, its finalizer, the
// writes it makes, and how it appears as an Event's involved object.
import { API_VERSION, GROUP, RESOURCES, VERSION, type AdaptiveRoute } from '../api/types.ts';
import type { ResourceRef } from '../kube/client.ts';
import type { InvolvedObject } from '../kube/events.ts';

/** Lets outputs withdraw what they serve before the route disappears. */
export const ROUTE_FINALIZER = `${GROUP}/cleanup`;

export const ADAPTIVE_ROUTES: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: RESOURCES.adaptiveRoute.plural,
  kind: RESOURCES.adaptiveRoute.kind,
};

/** The writes the reconciler makes (KubeApi implements them). */
export interface RouteWriter {
  patchStatus<T extends AdaptiveRoute>(resource: ResourceRef, namespace: string, name: string, status: object): Promise<T>;
  patch<T extends AdaptiveRoute>(resource: ResourceRef, namespace: string, name: string, patch: object): Promise<T>;
}

/** An AdaptiveRoute as an Event's involved object (list items may lack apiVersion/kind). */
export function routeRef(route: AdaptiveRoute): InvolvedObject {
  return { apiVersion: API_VERSION, kind: RESOURCES.adaptiveRoute.kind, metadata: route.metadata };
}
