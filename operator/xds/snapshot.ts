// Snapshots: everything served to one flavour of node at one version, built from the route
// intents and their resolved endpoints. A snapshot is consistent (every RDS name a listener
// uses, every cluster a route table uses and every EDS name a cluster uses exists in it; this
// is asserted on every build), immutable once built, and shares encoded resources with the
// previous one wherever the content did not change. Routes are built once per distinct input
// and memoised, so a snapshot of 1,000 routes where one changed encodes that one.
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';
import { keyNamespace } from '../base/object-key.ts';
import type { RouteIntent } from '../routing/route-intent.ts';
import { buildCluster, buildLoadAssignment, regionsWithEndpoints, type RegionEndpoints } from './build-cluster.ts';
import {
  buildEnvoyListener,
  buildEnvoyRouteConfiguration,
  buildGrpcListener,
  buildGrpcRouteConfiguration,
  buildVirtualHost,
  weightedClusters,
} from './build-route.ts';
import { FLAVORS, type NodeFlavor } from './capabilities.ts';
import { ENVOY_LISTENER_NAME, ENVOY_ROUTE_CONFIG_NAME, clusterName, listenerName, routeConfigName } from './names.ts';
import { lengthDelimited, stringField } from './proto-bytes.ts';
import { contentHash, type EncodedResource, type ResourceEncoder } from './resource-cache.ts';
import { PUSH_ORDER, RESOURCE_TYPES, type ResourceKind, type ResourceType } from './type-urls.ts';

/** One resource a node must hold, at this content, to be in sync with a route. */
export interface RequiredResource {
  readonly type: ResourceType;
  readonly name: string;
  /** The route's part of the resource: its version, or for a shared resource the route's part hash. */
  readonly part: string;
}

export interface FlavorSnapshot {
  readonly flavor: NodeFlavor;
  readonly version: string;
  readonly resources: ReadonlyMap<ResourceKind, ReadonlyMap<string, EncodedResource>>;
  /**
   * Per route, what a node needs to be in sync with it: the listener the node enters through
   * (first), the route table, and each cluster the route sends traffic to with its endpoints.
   */
  readonly required: ReadonlyMap<string, readonly RequiredResource[]>;
}

export interface RouteInput {
  intent: RouteIntent;
  endpoints: RegionEndpoints;
}

export interface BuildResult {
  snapshots: Readonly<Record<NodeFlavor, FlavorSnapshot>>;
  /** Per route, a hash of everything served for it (all flavours): a new value means a new route version. */
  fingerprints: ReadonlyMap<string, string>;
  /** Routes whose resources could not be built; the previous build of each (if any) was kept. */
  failures: ReadonlyMap<string, Error>;
}

interface BuiltFlavor {
  clusters: EncodedResource[];
  loadAssignments: EncodedResource[];
  /** Proxyless gRPC: the route's own listener and route table. */
  listener?: EncodedResource;
  routeConfiguration?: EncodedResource;
  /** Envoy: the route's virtual host, to be spliced into the shared route table. */
  virtualHost?: { bytes: Uint8Array; hash: string };
  referenced: string[];
}

interface BuiltRoute {
  input: string;
  key: string;
  host: string;
  byFlavor: Record<NodeFlavor, BuiltFlavor>;
  /** The resources that depend on only part of the route, by that part (see #buildRoute). */
  reused: Map<string, EncodedResource>;
  fingerprint: string;
}

function inputKey(route: RouteInput): string {
  const { source: _source, ...intent } = route.intent;
  const endpoints = [...route.endpoints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([intent, endpoints]);
}

/** Throws MeshpilotError(INTERNAL) when a name referenced in `snapshot` has no resource. A bug if it ever fires. */
export function assertConsistent(snapshot: Pick<FlavorSnapshot, 'resources' | 'flavor'>): void {
  const targets: Record<ResourceKind, ResourceKind | undefined> = { LDS: 'RDS', RDS: 'CDS', CDS: 'EDS', EDS: undefined };
  for (const [kind, target] of Object.entries(targets) as [ResourceKind, ResourceKind | undefined][]) {
    if (!target) continue;
    const available = snapshot.resources.get(target);
    for (const res of snapshot.resources.get(kind)?.values() ?? []) {
      for (const ref of res.refs) {
        if (!available?.has(ref)) {
          throw new MeshpilotError(ERROR_CODES.INTERNAL, `inconsistent ${snapshot.flavor} snapshot: ${kind} "${res.name}" references ${target} "${ref}", which is not in it`);
        }
      }
    }
  }
}

export class SnapshotBuilder {
  readonly #encoder: ResourceEncoder;
  readonly #envoyListenerPort: number;
  #memo = new Map<string, BuiltRoute>();

  constructor(options: { encoder: ResourceEncoder; envoyListenerPort: number }) {
    this.#encoder = options.encoder;
    this.#envoyListenerPort = options.envoyListenerPort;
  }

  /** Builds both flavours' snapshots at `version` from `routes`. Never throws for a bad route (see `failures`). */
  build(routes: readonly RouteInput[], version: string): BuildResult {
    const failures = new Map<string, Error>();
    const memo = new Map<string, BuiltRoute>();
    for (const route of [...routes].sort((a, b) => (a.intent.key < b.intent.key ? -1 : 1))) {
      const key = route.intent.key;
      const input = inputKey(route);
      const previous = this.#memo.get(key);
      if (previous && previous.input === input) {
        memo.set(key, previous);
        continue;
      }
      try {
        memo.set(key, this.#buildRoute(route, input, previous));
      } catch (e) {
        failures.set(key, e as Error);
        if (previous) memo.set(key, previous);
      }
    }
    this.#memo = memo;

    const snapshots = {} as Record<NodeFlavor, FlavorSnapshot>;
    for (const flavor of FLAVORS) snapshots[flavor] = this.#assemble(flavor, version);
    const fingerprints = new Map<string, string>();
    for (const [key, built] of memo) fingerprints.set(key, built.fingerprint);
    this.#encoder.retainOnly(FLAVORS.flatMap((f) => [...snapshots[f].resources.values()].flatMap((m) => [...m.values()])));
    return { snapshots, fingerprints, failures };
  }

  /**
   * Builds the resources of one route. Each resource is reused from `previous` (the route's
   * last build) when the inputs it depends on are unchanged: a weight change re-encodes the
   * route tables only, not the clusters and endpoints.
   */
  #buildRoute(route: RouteInput, input: string, previous: BuiltRoute | undefined): BuiltRoute {
    const { intent, endpoints } = route;
    const regions = regionsWithEndpoints(intent, endpoints);
    const withCluster = new Set(regions);
    const weights = weightedClusters(intent, withCluster);
    const referenced = weights.map((w) => w.name);
    const byFlavor = {} as Record<NodeFlavor, BuiltFlavor>;
    const reused = new Map<string, EncodedResource>();
    const parts: string[] = [];
    // What a cluster and a ClusterLoadAssignment depend on, besides their region and flavour.
    const clusterInput = JSON.stringify([intent.key, intent.outlierDetection, intent.retries.perTryTimeoutMs]);
    const claInput = JSON.stringify([intent.key, intent.failoverEnabled, intent.destinations.map((d) => [d.region, d.priority]), [...endpoints]]);
    const memo = (inputKey: string, make: () => EncodedResource): EncodedResource => {
      const res = previous?.reused.get(inputKey) ?? make();
      reused.set(inputKey, res);
      return res;
    };
    for (const flavor of FLAVORS) {
      const clusters = regions.map((region) =>
        memo(`CDS ${flavor} ${region} ${clusterInput}`, () =>
          this.#encoder.encode({
            type: RESOURCE_TYPES.CDS,
            name: clusterName(intent.key, region),
            routeKey: intent.key,
            refs: [clusterName(intent.key, region)],
            value: buildCluster(intent, region, flavor),
          }),
        ),
      );
      const loadAssignments = regions.map((region) =>
        memo(`EDS ${flavor} ${region} ${claInput}`, () =>
          this.#encoder.encode({
            type: RESOURCE_TYPES.EDS,
            name: clusterName(intent.key, region),
            routeKey: intent.key,
            refs: [],
            value: buildLoadAssignment(intent, region, endpoints),
          }),
        ),
      );
      const built: BuiltFlavor = { clusters, loadAssignments, referenced };
      if (flavor === 'grpc') {
        built.routeConfiguration = this.#encoder.encode({
          type: RESOURCE_TYPES.RDS,
          name: routeConfigName(intent.host),
          routeKey: intent.key,
          refs: referenced,
          value: buildGrpcRouteConfiguration(intent, weights),
        });
        built.listener = memo(`LDS ${intent.key} ${intent.host}`, () =>
          this.#encoder.encode({
            type: RESOURCE_TYPES.LDS,
            name: listenerName(intent.host),
            routeKey: intent.key,
            refs: [routeConfigName(intent.host)],
            value: buildGrpcListener(intent.host),
          }),
        );
        parts.push(built.routeConfiguration.version, built.listener.version);
      } else {
        const bytes = this.#encoder.encodePart('envoy.config.route.v3.VirtualHost', buildVirtualHost(intent, weights, flavor));
        const hash = contentHash('vhost', bytes);
        built.virtualHost = { bytes, hash };
        parts.push(hash);
      }
      parts.push(...clusters.map((c) => c.version), ...loadAssignments.map((l) => l.version));
      byFlavor[flavor] = built;
    }
    return { input, key: intent.key, host: intent.host, byFlavor, reused, fingerprint: contentHash(...parts) };
  }

  /**
   * What a node scoped to namespace `scope` sees at the last build: the snapshot of `flavor`
   * with only that namespace's routes (Envoy's shared listener and route table hold only
   * their virtual hosts). Resources are the built ones, so a scoped node and an unscoped one
   * hold the same bytes for the same route.
   */
  scoped(flavor: NodeFlavor, version: string, scope: string): FlavorSnapshot {
    return this.#assemble(flavor, version, scope);
  }

  #assemble(flavor: NodeFlavor, version: string, scope?: string): FlavorSnapshot {
    const routes = scope === undefined ? [...this.#memo.values()] : [...this.#memo.values()].filter((b) => keyNamespace(b.key) === scope);
    const maps = new Map<ResourceKind, Map<string, EncodedResource>>(PUSH_ORDER.map((t) => [t.kind, new Map()]));
    const put = (res: EncodedResource): void => {
      maps.get(res.type.kind)!.set(res.name, res);
    };
    const required = new Map<string, RequiredResource[]>();
    const need = (type: ResourceType, res: EncodedResource | undefined, part?: string): RequiredResource[] =>
      res ? [{ type, name: res.name, part: part ?? res.version }] : [];

    let envoyListener: EncodedResource | undefined;
    let envoyRoutes: EncodedResource | undefined;
    if (flavor === 'envoy') {
      const vhosts: Uint8Array[] = [];
      const routeParts = new Map<string, string>();
      const referenced: string[] = [];
      for (const built of routes) {
        const f = built.byFlavor.envoy;
        vhosts.push(f.virtualHost!.bytes);
        routeParts.set(built.key, f.virtualHost!.hash);
        referenced.push(...f.referenced);
      }
      envoyRoutes = this.#encoder.encode({
        type: RESOURCE_TYPES.RDS,
        name: ENVOY_ROUTE_CONFIG_NAME,
        routeKey: undefined,
        refs: referenced,
        value: buildEnvoyRouteConfiguration([]),
        // RouteConfiguration { name = 1; repeated VirtualHost virtual_hosts = 2 }: the cached virtual hosts spliced in.
        body: Buffer.concat([stringField(1, ENVOY_ROUTE_CONFIG_NAME), ...vhosts.map((v) => lengthDelimited(2, v))]),
        routeParts,
      });
      envoyListener = this.#encoder.encode({
        type: RESOURCE_TYPES.LDS,
        name: ENVOY_LISTENER_NAME,
        routeKey: undefined,
        refs: [ENVOY_ROUTE_CONFIG_NAME],
        value: buildEnvoyListener(this.#envoyListenerPort),
      });
      put(envoyRoutes);
      put(envoyListener);
    }

    for (const built of routes) {
      const f = built.byFlavor[flavor];
      f.clusters.forEach(put);
      f.loadAssignments.forEach(put);
      if (f.listener) put(f.listener);
      if (f.routeConfiguration) put(f.routeConfiguration);
      const list: RequiredResource[] =
        flavor === 'envoy'
          ? [...need(RESOURCE_TYPES.LDS, envoyListener), ...need(RESOURCE_TYPES.RDS, envoyRoutes, f.virtualHost!.hash)]
          : [...need(RESOURCE_TYPES.LDS, f.listener), ...need(RESOURCE_TYPES.RDS, f.routeConfiguration)];
      for (const name of f.referenced) {
        list.push(...need(RESOURCE_TYPES.CDS, f.clusters.find((c) => c.name === name)));
        list.push(...need(RESOURCE_TYPES.EDS, f.loadAssignments.find((l) => l.name === name)));
      }
      required.set(built.key, list);
    }
    const snapshot: FlavorSnapshot = { flavor, version, resources: maps, required };
    assertConsistent(snapshot);
    return snapshot;
  }
}

/** Per type, the names whose resource was added, changed or removed. */
export type Changed = Map<ResourceKind, Set<string>>;

/** Names whose resource differs between two snapshots (added, changed or removed), per type. */
export function snapshotDiff(before: FlavorSnapshot, after: FlavorSnapshot): Changed {
  const out: Changed = new Map();
  for (const t of PUSH_ORDER) {
    const a = before.resources.get(t.kind)!;
    const b = after.resources.get(t.kind)!;
    const names = new Set<string>();
    for (const [name, r] of b) if (a.get(name) !== r) names.add(name);
    for (const name of a.keys()) if (!b.has(name)) names.add(name);
    out.set(t.kind, names);
  }
  return out;
}

/** Every resource name of `snapshots`, to itself: streams intern the names nodes send through it (one string per name). */
export function nameIndex(snapshots: Readonly<Record<NodeFlavor, FlavorSnapshot>>): Map<string, string> {
  const names = new Map<string, string>();
  for (const flavor of FLAVORS) for (const map of snapshots[flavor].resources.values()) for (const name of map.keys()) names.set(name, name);
  return names;
}
