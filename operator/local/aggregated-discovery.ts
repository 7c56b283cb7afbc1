// Aggregated discovery (apidiscovery.k8s.io/v2, GA in Kubernetes 1.30): one document for /api
// and one for /apis listing every group, version and resource, which current clients ask for
// first (kubectl 1.35 does; older ones fall back to the legacy documents of discovery.ts).
// A client asks for it in its Accept header; the answer says what it is in Content-Type.
import type { IncomingMessage } from 'node:http';
import { compareKubeVersions } from './custom-resources.ts';
import { ALL_VERBS } from './discovery.ts';
import type { ResourceRegistry, ResourceType } from './resource-registry.ts';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** True when `req` accepts an APIGroupDiscoveryList (v2; v2beta1 is not offered). */
export function wantsAggregated(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').split(',').some((part) => {
    const p = part.replace(/\s+/g, '');
    return p.includes('g=apidiscovery.k8s.io') && p.includes('v=v2;') && p.includes('as=APIGroupDiscoveryList') && !p.includes('v=v2beta1');
  });
}

function resource(t: ResourceType, version: string): Record<string, unknown> {
  const responseKind = { group: t.group, version, kind: t.kind };
  const r: Record<string, unknown> = {
    resource: t.plural,
    responseKind,
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs ?? ALL_VERBS,
  };
  if (t.shortNames.length > 0) r.shortNames = t.shortNames;
  if (t.categories.length > 0) r.categories = t.categories;
  if (t.statusSubresource) r.subresources = [{ subresource: 'status', responseKind, verbs: ['get', 'patch', 'update'] }];
  return r;
}

/** The APIGroupDiscoveryList of /api (`core`) or /apis. */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean): Record<string, unknown> {
  const groups = registry.groups().filter((g) => (g.name === '') === core);
  const items = groups.map((g) => ({
    metadata: { name: g.name, creationTimestamp: null },
    versions: [...g.versions].sort(compareKubeVersions).map((version) => ({
      version,
      resources: registry
        .all()
        .filter((t) => t.group === g.name && t.versions.includes(version))
        .sort((a, b) => (a.plural < b.plural ? -1 : 1))
        .map((t) => resource(t, version)),
      freshness: 'Current',
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
