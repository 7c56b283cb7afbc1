// The ADS wire format as a simulated client needs it, kept cheap because one worker process
// handles thousands of streams: a hand-rolled reader for the DiscoveryResponse envelope (the
// resources stay undecoded `Any` bytes until a summariser needs them), a hand-rolled writer
// for DiscoveryRequest, and protobufjs (loaded from the Envoy protos that @grpc/grpc-js-xds
// ships) for the resource bodies and the Node message.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

export const TYPE_URL = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Loads the Envoy v3 message types a proxyless client decodes. Synchronous; ~100 ms. */
export function loadEnvoyTypes(): {
  listener: protobuf.Type;
  httpConnectionManager: protobuf.Type;
  routeConfiguration: protobuf.Type;
  cluster: protobuf.Type;
  clusterLoadAssignment: protobuf.Type;
  node: protobuf.Type;
} {
  const require = createRequire(import.meta.url);
  const xdsRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const protobufRoot = dirname(require.resolve('protobufjs/package.json'));
  const includes = [
    ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(xdsRoot, 'deps', d)),
    protobufRoot, // google/protobuf/descriptor.proto
  ];
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => {
    for (const dir of includes) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target; // protobufjs carries the other well-known types itself
  };
  root.loadSync(
    [
      'envoy/config/core/v3/base.proto',
      'envoy/config/listener/v3/listener.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/config/route/v3/route.proto',
      'envoy/config/cluster/v3/cluster.proto',
      'envoy/config/endpoint/v3/endpoint.proto',
    ],
    { keepCase: true },
  );
  root.resolveAll();
  return {
    listener: root.lookupType('envoy.config.listener.v3.Listener'),
    httpConnectionManager: root.lookupType(HCM_TYPE),
    routeConfiguration: root.lookupType('envoy.config.route.v3.RouteConfiguration'),
    cluster: root.lookupType('envoy.config.cluster.v3.Cluster'),
    clusterLoadAssignment: root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment'),
    node: root.lookupType('envoy.config.core.v3.Node'),
  };
}

export type EnvoyTypes = ReturnType<typeof loadEnvoyTypes>;

// ---- reading -------------------------------------------------------------------------------

/** A DiscoveryResponse with its resources left as the `Any.value` bytes. */
export interface RawResponse {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  /** `Any.value` of each resource, as views into the received buffer. */
  resources: Buffer[];
  /** `Any.type_url` of each resource. */
  resourceTypes: string[];
  /** Size of the serialized DiscoveryResponse (the gRPC message, without the 5-byte frame header). */
  size: number;
}

class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++] ?? 0;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new Error('protobuf: varint too long');
    }
  }

  /** Returns [start, end) of a length-delimited field's payload and moves past it. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error('protobuf: truncated length-delimited field');
    this.pos = start + len;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}

/** Parses a serialized DiscoveryResponse. Throws on malformed input. */
export function readDiscoveryResponse(buf: Buffer): RawResponse {
  const out: RawResponse = { versionInfo: '', typeUrl: '', nonce: '', resources: [], resourceTypes: [], size: buf.length };
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire !== 2 || (field !== 1 && field !== 2 && field !== 4 && field !== 5)) {
      r.skip(wire);
      continue;
    }
    const [s, e] = r.bytes();
    if (field === 1) out.versionInfo = buf.toString('utf8', s, e);
    else if (field === 4) out.typeUrl = buf.toString('utf8', s, e);
    else if (field === 5) out.nonce = buf.toString('utf8', s, e);
    else {
      // google.protobuf.Any { string type_url = 1; bytes value = 2; }
      const any = new Reader(buf, s, e);
      let typeUrl = '';
      let value = buf.subarray(s, s);
      while (any.pos < any.end) {
        const t = any.varint();
        if ((t & 7) !== 2 || (t >>> 3 !== 1 && t >>> 3 !== 2)) {
          any.skip(t & 7);
          continue;
        }
        const [vs, ve] = any.bytes();
        if (t >>> 3 === 1) typeUrl = buf.toString('utf8', vs, ve);
        else value = buf.subarray(vs, ve);
      }
      out.resources.push(value);
      out.resourceTypes.push(typeUrl);
    }
  }
  return out;
}

// ---- writing -------------------------------------------------------------------------------

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** One length-delimited field (`tag`, length, payload). */
export function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varintBytes(field * 8 + 2), ...varintBytes(payload.length)]), payload]);
}

function stringField(field: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : lengthDelimited(field, Buffer.from(value, 'utf8'));
}

/** The encoded `repeated string resource_names = 3` of a DiscoveryRequest. */
export function encodeResourceNames(names: readonly string[]): Buffer {
  return Buffer.concat(names.map((n) => lengthDelimited(3, Buffer.from(n, 'utf8'))));
}

export interface RequestParts {
  versionInfo: string;
  /** The encoded Node message, on the first request of a stream only. */
  node?: Buffer;
  /** From `encodeResourceNames`, so that a client re-sending the same list encodes it once. */
  resourceNames: Buffer;
  typeUrl: string;
  responseNonce: string;
  /** A NACK: google.rpc.Status { code, message }. */
  errorDetail?: { code: number; message: string };
}

/** Serializes a DiscoveryRequest (fields in field-number order, as protoc would). */
export function encodeDiscoveryRequest(p: RequestParts): Buffer {
  const parts = [stringField(1, p.versionInfo)];
  if (p.node) parts.push(lengthDelimited(2, p.node));
  parts.push(p.resourceNames, stringField(4, p.typeUrl), stringField(5, p.responseNonce));
  if (p.errorDetail) {
    const status = Buffer.concat([Buffer.from([0x08, ...varintBytes(p.errorDetail.code)]), stringField(2, p.errorDetail.message)]);
    parts.push(lengthDelimited(6, status));
  }
  return Buffer.concat(parts);
}

// ---- resource summaries --------------------------------------------------------------------

/** What a proxyless client takes from a Listener: the RouteConfiguration it must fetch. */
export interface ListenerSummary {
  name: string;
  routeConfigName: string | undefined;
}

/** What the bench takes from a RouteConfiguration: the clusters it names and their shares. */
export interface RouteSummary {
  name: string;
  /** Sorted cluster names the routes reference. */
  clusters: string[];
  /** `clusters.join()`: equal keys mean the same cluster set. */
  clusterKey: string;
  /** Sorted `cluster=share` with shares in 1/10000 of the route's total weight, zero weights left out. */
  weightKey: string;
}

export interface ClusterSummary {
  name: string;
  /** The EDS resource this cluster needs, or undefined when it is not an EDS cluster. */
  edsName: string | undefined;
}

export interface LoadAssignmentSummary {
  name: string;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' ? (v as Obj) : undefined;
}

function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : [];
}

/** The canonical weight key of a list of (cluster, weight): equal splits give equal keys. */
export function weightKeyOf(pairs: readonly { cluster: string; weight: number }[]): string {
  const total = pairs.reduce((s, p) => s + p.weight, 0);
  return pairs
    .filter((p) => p.weight > 0)
    .map((p) => `${p.cluster}=${Math.round((p.weight * 10_000) / total)}`)
    .sort()
    .join(',');
}

export function summariseListener(types: EnvoyTypes, value: Buffer): ListenerSummary {
  const l = types.listener.decode(value) as unknown as Obj;
  const any = obj(obj(l.api_listener)?.api_listener);
  let routeConfigName: string | undefined;
  if (any && typeof any.type_url === 'string' && any.type_url.endsWith(HCM_TYPE)) {
    const hcm = types.httpConnectionManager.decode(any.value as Uint8Array) as unknown as Obj;
    const rds = obj(hcm.rds);
    if (rds && typeof rds.route_config_name === 'string') routeConfigName = rds.route_config_name;
  }
  return { name: String(l.name ?? ''), routeConfigName };
}

export function summariseRouteConfiguration(types: EnvoyTypes, value: Buffer): RouteSummary {
  const rc = types.routeConfiguration.decode(value) as unknown as Obj;
  const pairs: { cluster: string; weight: number }[] = [];
  for (const vh of arr(rc.virtual_hosts)) {
    for (const route of arr(vh.routes)) {
      const action = obj(route.route);
      if (!action) continue;
      if (typeof action.cluster === 'string' && action.cluster !== '') pairs.push({ cluster: action.cluster, weight: 1 });
      for (const wc of arr(obj(action.weighted_clusters)?.clusters)) {
        pairs.push({ cluster: String(wc.name), weight: Number(obj(wc.weight)?.value ?? 0) });
      }
    }
  }
  const clusters = [...new Set(pairs.map((p) => p.cluster))].sort();
  return { name: String(rc.name ?? ''), clusters, clusterKey: clusters.join(','), weightKey: weightKeyOf(pairs) };
}

const CLUSTER_TYPE_EDS = 3;

export function summariseCluster(types: EnvoyTypes, value: Buffer): ClusterSummary {
  const c = types.cluster.decode(value) as unknown as Obj;
  const name = String(c.name ?? '');
  const eds = obj(c.eds_cluster_config);
  const isEds = c.type === CLUSTER_TYPE_EDS || c.type === 'EDS' || eds !== undefined;
  const serviceName = typeof eds?.service_name === 'string' && eds.service_name !== '' ? eds.service_name : name;
  return { name, edsName: isEds ? serviceName : undefined };
}

export function summariseLoadAssignment(types: EnvoyTypes, value: Buffer): LoadAssignmentSummary {
  const cla = types.clusterLoadAssignment.decode(value) as unknown as Obj;
  return { name: String(cla.cluster_name ?? '') };
}
