// Make before break: a node must never hold a reference to something it does not hold. A
// resource the snapshot dropped stays while something the node holds still points at it (a
// cluster its route table uses, that cluster's endpoints, a route table a listener uses), and
// an Envoy route table waits until the clusters it names were sent with their endpoints.
import type { EncodedResource } from './resource-cache.ts';
import type { FlavorSnapshot } from './snapshot.ts';
import { ackedOf, nackedOf, sentOf, type TypeState } from './stream-state.ts';
import type { ResourceKind } from './type-urls.ts';

/** Which type's resources a resource of each type points at. */
export const REFERS_TO: Record<ResourceKind, ResourceKind | undefined> = { LDS: 'RDS', RDS: 'CDS', CDS: 'EDS', EDS: undefined };
/** ...and the reverse: whose held resources keep a resource of each type alive. */
export const REFERRED_BY: Record<ResourceKind, ResourceKind | undefined> = { LDS: undefined, RDS: 'LDS', CDS: 'RDS', EDS: 'CDS' };

/**
 * The resources of `st` the node still holds and still needs although the snapshot (`current`)
 * dropped them: those its `parent` type's held resources (sent or ACKed) still point at. They
 * are removed only once nothing the node holds refers to them any more.
 */
export function retainedResources(st: TypeState, parent: TypeState | undefined, current: ReadonlyMap<string, EncodedResource>): Map<string, EncodedResource> {
  const out = new Map<string, EncodedResource>();
  if (!parent) return out;
  // Only a held resource the snapshot no longer has can need retaining: usually there is none.
  let orphans = false;
  for (const [name, e] of st.entries) {
    if (!current.has(name) && (sentOf(e) !== null || ackedOf(e) !== null)) {
      orphans = true;
      break;
    }
  }
  if (!orphans) return out;
  const consider = (r: EncodedResource | null): void => {
    for (const ref of r?.refs ?? []) {
      if (current.has(ref) || out.has(ref) || !st.subscribes(ref)) continue;
      const held = st.entries.get(ref);
      const res = ackedOf(held) ?? sentOf(held);
      if (res) out.set(ref, res);
    }
  };
  for (const e of parent.entries.values()) {
    const sent = sentOf(e);
    const acked = ackedOf(e);
    consider(sent);
    if (acked !== sent) consider(acked);
  }
  return out;
}

/** True when a route table in `routes` names a cluster not yet sent (or ACKed) as the snapshot has it, or whose endpoints were not. */
export function routesAwaitClusters(routes: readonly EncodedResource[], cds: TypeState | undefined, eds: TypeState | undefined, snapshot: FlavorSnapshot): boolean {
  const clusters = snapshot.resources.get('CDS')!;
  const endpoints = snapshot.resources.get('EDS')!;
  return routes.some((r) =>
    r.refs.some((name) => {
      const cluster = clusters.get(name);
      if (!cluster) return false;
      if (sentOf(cds?.entries.get(name)) !== cluster && ackedOf(cds?.entries.get(name)) !== cluster) return true;
      return cluster.refs.some((edsName) => {
        const e = eds?.entries.get(edsName);
        const want = endpoints.get(edsName);
        return want !== undefined && sentOf(e) !== want && ackedOf(e) !== want && nackedOf(e) !== want;
      });
    }),
  );
}

/** Whether two reference lists are the same. */
export function sameRefs(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
