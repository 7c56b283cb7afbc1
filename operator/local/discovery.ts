// Legacy (v1) discovery documents: /api, /api/v1, /apis, /apis/{group} and
// /apis/{group}/{version}. kubectl builds its REST mapper (kinds, short names, scope,
// categories) from these, or from aggregated discovery (aggregated-discovery.ts) when it
// asks for that.
import type { ResourceRegistry, ResourceType } from './resource-registry.ts';
import { compareKubeVersions } from './custom-resources.ts';

/** What every served resource allows unless its type says otherwise; aggregated discovery lists the same. */
export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** GET /api */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string, versions: string[]): Record<string, unknown> {
  const sorted = [...versions].sort(compareKubeVersions);
  const entries = sorted.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

/** GET /apis */
export function groupList(registry: ResourceRegistry): Record<string, unknown> {
  const groups = registry.groups().filter((g) => g.name !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => groupEntry(g.name, g.versions)) };
}

/** GET /apis/{group}, or undefined when no such group is served. */
export function group(registry: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const g = registry.groups().find((x) => x.name === name);
  return g && name !== '' ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.name, g.versions) } : undefined;
}

function resourceEntries(t: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = { name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs ?? ALL_VERBS };
  if (t.shortNames.length > 0) main.shortNames = t.shortNames;
  if (t.categories.length > 0) main.categories = t.categories;
  const entries = [main];
  if (t.statusSubresource) entries.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  return entries;
}

/** GET /api/v1 or /apis/{group}/{version}, or undefined when that version is not served. */
export function resourceList(registry: ResourceRegistry, groupName: string, version: string): Record<string, unknown> | undefined {
  const types = registry.all().filter((t) => t.group === groupName && t.versions.includes(version));
  if (types.length === 0) return undefined;
  types.sort((a, b) => (a.plural < b.plural ? -1 : 1));
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`,
    resources: types.flatMap(resourceEntries),
  };
}
