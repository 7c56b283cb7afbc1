// The Envoy v3 API messages the xDS server encodes and decodes, loaded with protobufjs from the
// .proto files that @grpc/grpc-js-xds ships in its deps/ folder (the same files its client
// decodes with). The parsed schema is immutable, so it is loaded once per process and shared.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import { NESTED_MESSAGES, PUSH_ORDER } from './type-urls.ts';

const require = createRequire(import.meta.url);

const ROOT_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
];

/** The include directories of the Envoy API protos (as proto-loader's `includeDirs`). */
export function protoIncludeDirs(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
}

export interface XdsProtos {
  readonly root: protobuf.Root;
  readonly discoveryRequest: protobuf.Type;
  readonly deltaDiscoveryRequest: protobuf.Type;
  readonly discoveryResponse: protobuf.Type;
  readonly deltaDiscoveryResponse: protobuf.Type;
  /** The message type named `name` (fully qualified); throws on an unknown name (a bug). */
  type(name: string): protobuf.Type;
  /** Encodes a plain object (snake_case keys, `Any` as `{ '@type', ...fields }`) as message `name`. */
  encode(name: string, value: object): Uint8Array;
  /** Decodes `bytes` of message `name` into JSON, expanding nested `Any` values into `{ '@type', ... }`. */
  toJson(name: string, bytes: Uint8Array): Record<string, unknown>;
}

let loaded: XdsProtos | undefined;

/** Loads (once) and returns the xDS messages. Synchronous; throws when the protos are missing. */
export function loadXdsProtos(): XdsProtos {
  loaded ??= load();
  return loaded;
}

function load(): XdsProtos {
  const dirs = protoIncludeDirs();
  const protobufDir = dirname(require.resolve('protobufjs/package.json'));
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (isAbsolute(target)) return target;
    for (const dir of [...dirs, protobufDir]) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(ROOT_FILES, { keepCase: true });
  root.resolveAll();

  const types = new Map<string, protobuf.Type>();
  const type = (name: string): protobuf.Type => {
    let t = types.get(name);
    if (!t) {
      t = root.lookupType(name);
      types.set(name, t);
    }
    return t;
  };
  // Resolve the served and nested messages up front so that a missing one fails at start.
  for (const t of PUSH_ORDER) type(t.message);
  for (const name of Object.values(NESTED_MESSAGES)) type(name);

  const jsonOptions: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, json: true };
  return {
    root,
    discoveryRequest: type('envoy.service.discovery.v3.DiscoveryRequest'),
    deltaDiscoveryRequest: type('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
    discoveryResponse: type('envoy.service.discovery.v3.DiscoveryResponse'),
    deltaDiscoveryResponse: type('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
    type,
    encode(name, value) {
      const t = type(name);
      return t.encode(t.fromObject(value as Record<string, unknown>)).finish();
    },
    toJson(name, bytes) {
      const t = type(name);
      return t.toObject(t.decode(bytes), jsonOptions) as Record<string, unknown>;
    },
  };
}
