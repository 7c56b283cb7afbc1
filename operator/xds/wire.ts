// The ADS wire: the gRPC service definition with our own (de)serializers, request decoding
// that never throws (a malformed or oversized request becomes a value the stream can refuse
// without being torn down), and response encoding that splices the cached bytes of each
// resource into the DiscoveryResponse instead of re-encoding them per node.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { XdsProtos } from './protos.ts';
import { lengthDelimited, stringField } from './proto-bytes.ts';
import type { EncodedResource } from './resource-cache.ts';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface NodeMessage {
  id: string;
  cluster: string;
  user_agent_name: string;
  user_agent_version?: string;
  client_features?: string[];
  /** google.protobuf.Struct as protobufjs decodes it ({ fields: { KEY: { stringValue } } }). */
  metadata?: unknown;
}

export interface StatusMessage {
  code: number;
  message: string;
}

export interface DiscoveryRequestMessage {
  version_info: string;
  node: NodeMessage | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail: StatusMessage | null;
}

export interface DeltaDiscoveryRequestMessage {
  node: NodeMessage | null;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail: StatusMessage | null;
}

/** What the deserializer hands the stream: a request, or why there is none. */
export type Decoded<T> =
  | { kind: 'ok'; message: T; bytes: number }
  | { kind: 'oversized'; bytes: number }
  | { kind: 'malformed'; bytes: number; error: string };

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, arrays: true, objects: true };

function decoder<T>(type: protobuf.Type, maxBytes: number, check: (m: T) => string | undefined): (b: Buffer) => Decoded<T> {
  return (bytes: Buffer) => {
    if (bytes.length > maxBytes) return { kind: 'oversized', bytes: bytes.length };
    try {
      const message = type.toObject(type.decode(bytes), TO_OBJECT) as T;
      const problem = check(message);
      if (problem) return { kind: 'malformed', bytes: bytes.length, error: problem };
      return { kind: 'ok', message, bytes: bytes.length };
    } catch (e) {
      return { kind: 'malformed', bytes: bytes.length, error: (e as Error).message };
    }
  };
}

function checkTypeUrl(m: { type_url: string }): string | undefined {
  return m.type_url ? undefined : 'type_url is empty';
}

function encoder(type: protobuf.Type): (value: object) => Buffer {
  return (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

function method<Req, Res>(name: string, def: Omit<MethodDefinition<Req, Res>, 'path' | 'requestStream' | 'responseStream' | 'originalName'>): MethodDefinition<Req, Res> {
  return { path: `/${ADS_SERVICE_NAME}/${name}`, requestStream: true, responseStream: true, originalName: name, ...def };
}

/**
 * The AggregatedDiscoveryService with both methods. Requests larger than `maxRequestBytes`
 * or that do not decode arrive as `oversized` / `malformed` values; responses are the
 * already-encoded Buffers of encodeDiscoveryResponse / encodeDeltaResponse.
 */
export function adsServiceDefinition(protos: XdsProtos, maxRequestBytes: number): ServiceDefinition {
  const identity = (b: Buffer): Buffer => b;
  return {
    StreamAggregatedResources: method<Decoded<DiscoveryRequestMessage>, Buffer>('StreamAggregatedResources', {
      requestSerialize: encoder(protos.discoveryRequest) as unknown as (v: Decoded<DiscoveryRequestMessage>) => Buffer,
      requestDeserialize: decoder<DiscoveryRequestMessage>(protos.discoveryRequest, maxRequestBytes, checkTypeUrl),
      responseSerialize: identity,
      responseDeserialize: identity,
    }),
    DeltaAggregatedResources: method<Decoded<DeltaDiscoveryRequestMessage>, Buffer>('DeltaAggregatedResources', {
      requestSerialize: encoder(protos.deltaDiscoveryRequest) as unknown as (v: Decoded<DeltaDiscoveryRequestMessage>) => Buffer,
      requestDeserialize: decoder<DeltaDiscoveryRequestMessage>(protos.deltaDiscoveryRequest, maxRequestBytes, checkTypeUrl),
      responseSerialize: identity,
      responseDeserialize: identity,
    }),
  };
}

/** `resources` (field 2) of a DiscoveryResponse carrying `res`: encoded once per resource. */
function sotwField(res: EncodedResource): Buffer {
  res.sotwField ??= lengthDelimited(2, res.any);
  return res.sotwField as Buffer;
}

/** The `Resource` wrapper of a delta response for `res` (version, Any, name), as field 2, encoded once per resource. */
export function deltaResourceField(res: EncodedResource): Buffer {
  res.deltaField ??= lengthDelimited(2, Buffer.concat([stringField(1, res.version), lengthDelimited(2, res.any), stringField(3, res.name)]));
  return res.deltaField as Buffer;
}

/**
 * A DiscoveryResponse (state of the world) carrying `resources`: the cached bytes of each
 * resource spliced between the version, type URL and nonce. One allocation per response.
 */
export function encodeDiscoveryResponse(r: { versionInfo: string; typeUrl: string; nonce: string; resources: readonly EncodedResource[] }): Buffer {
  const parts: Buffer[] = [stringField(1, r.versionInfo)];
  for (const res of r.resources) parts.push(sotwField(res));
  parts.push(stringField(4, r.typeUrl), stringField(5, r.nonce));
  return Buffer.concat(parts);
}

/** A DeltaDiscoveryResponse carrying `resources` and naming `removed`. */
export function encodeDeltaResponse(r: {
  systemVersionInfo: string;
  typeUrl: string;
  nonce: string;
  resources: readonly EncodedResource[];
  removed: readonly string[];
}): Buffer {
  const parts: Buffer[] = [stringField(1, r.systemVersionInfo)];
  for (const res of r.resources) parts.push(deltaResourceField(res));
  parts.push(stringField(4, r.typeUrl), stringField(5, r.nonce));
  for (const name of r.removed) parts.push(stringField(6, name));
  return Buffer.concat(parts);
}
