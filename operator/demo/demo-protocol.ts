// The demo's one RPC, meshpilot.demo.Demo/Call, defined in code with JSON on the wire: no
// .proto file to ship, and both ends of the demo are ours.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

export const DEMO_SERVICE = 'meshpilot.demo.Demo';
export const DEMO_METHOD = `${DEMO_SERVICE}/Call`;
/** The HTTP/2 path of the method. */
export const DEMO_PATH = `/${DEMO_METHOD}`;
/** Trailing metadata key on every answer, failed or not: which region served the call. */
export const REGION_METADATA = 'x-demo-region';

export interface DemoRequest {
  seq: number;
}

export interface DemoReply {
  seq: number;
  region: string;
  /** The latency the backend added on purpose, ms. */
  latencyMs: number;
}

function serialize(value: DemoRequest | DemoReply): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Parses a message; throws (grpc-js then fails the call with INTERNAL) when it is not a JSON object. */
function deserialize<T>(bytes: Buffer): T {
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('demo message must be a JSON object');
  return value as T;
}

export const serializeRequest = serialize as (value: DemoRequest) => Buffer;
export const deserializeRequest = deserialize<DemoRequest>;
export const serializeReply = serialize as (value: DemoReply) => Buffer;
export const deserializeReply = deserialize<DemoReply>;

const call: MethodDefinition<DemoRequest, DemoReply> = {
  path: DEMO_PATH,
  requestStream: false,
  responseStream: false,
  requestSerialize: serializeRequest,
  requestDeserialize: deserializeRequest,
  responseSerialize: serializeReply,
  responseDeserialize: deserializeReply,
  originalName: 'call',
};

export const DEMO_SERVICE_DEFINITION: ServiceDefinition = { Call: call };
