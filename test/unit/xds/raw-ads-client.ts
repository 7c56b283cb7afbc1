// A raw ADS client for the protocol tests: grpc-js with ads.proto loaded by proto-loader,
// sending exactly the requests a test writes and recording every response. Responses queue
// up; `next()` takes them in order, so a test asserts on the sequence the server produced.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { loadXdsProtos, protoIncludeDirs } from '../../../operator/xds/protos.ts';

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

export interface SotwResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
}

export interface DeltaResponse {
  system_version_info: string;
  resources: { name: string; version: string; resource: AnyMessage | null }[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export interface NodeSpec {
  id: string;
  user_agent_name?: string;
  cluster?: string;
  /** google.protobuf.Struct, as protobufjs encodes it from an object ({ fields: { KEY: { stringValue } } }). */
  metadata?: unknown;
}

/** How a raw client reaches the server: plaintext by default. */
export interface Transport {
  credentials?: grpc.ChannelCredentials;
  /** The name the server's certificate is checked against (default: the address). */
  serverName?: string;
}

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientDuplexStream<unknown, unknown>>;

let serviceCtor: Ctor | undefined;

function adsClientCtor(): Ctor {
  if (!serviceCtor) {
    const def = protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: protoIncludeDirs(),
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: Ctor } } } } };
    serviceCtor = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
  }
  return serviceCtor;
}

/** Decodes the resources of a response into JSON objects (with `@type`). */
export function decodeAny(any: AnyMessage): Record<string, unknown> {
  const protos = loadXdsProtos();
  const name = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
  return { '@type': any.type_url, ...protos.toJson(name, any.value) };
}

/** The `name` (or `cluster_name`) of a decoded resource. */
export function resourceName(r: Record<string, unknown>): string {
  return (r.name ?? r.cluster_name) as string;
}

class Queue<T> {
  readonly all: T[] = [];
  #taken = 0;
  #waiters: (() => void)[] = [];

  push(v: T): void {
    this.all.push(v);
    for (const w of this.#waiters.splice(0)) w();
  }

  get pending(): number {
    return this.all.length - this.#taken;
  }

  async next(what: string, timeoutMs: number, isEnded: () => string | undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending === 0) {
      const ended = isEnded();
      if (ended !== undefined) throw new Error(`stream ended (${ended}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.all[this.#taken++]!;
  }
}

abstract class RawClient<Req, Res> {
  readonly node: NodeSpec;
  readonly #client: grpc.Client;
  protected readonly call: grpc.ClientDuplexStream<Req, Res>;
  readonly #queue = new Queue<Res>();
  #ended: string | undefined;
  #sentNode = false;
  status: grpc.StatusObject | undefined;

  protected constructor(port: number, node: NodeSpec, method: string, transport: Transport = {}) {
    this.node = node;
    const Ctor = adsClientCtor();
    const options: grpc.ChannelOptions = transport.serverName ? { 'grpc.ssl_target_name_override': transport.serverName, 'grpc.default_authority': transport.serverName } : {};
    const client = new Ctor(`127.0.0.1:${port}`, transport.credentials ?? grpc.credentials.createInsecure(), options);
    this.#client = client;
    this.call = client[method]!() as grpc.ClientDuplexStream<Req, Res>;
    this.call.on('data', (r: Res) => this.#queue.push(r));
    this.call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.#ended = `${grpc.status[s.code]}: ${s.details}`;
    });
    this.call.on('error', () => undefined);
  }

  /** Every response received so far. */
  get received(): readonly Res[] {
    return this.#queue.all;
  }

  /** Responses received and not yet taken by next(). */
  get unread(): number {
    return this.#queue.pending;
  }

  /** Sends a request; the node goes on the first one unless the request sets its own. */
  send(req: Partial<Req> & Record<string, unknown>): void {
    const full = { ...req } as Record<string, unknown>;
    if (!this.#sentNode && !('node' in full)) {
      full.node = { id: this.node.id, user_agent_name: this.node.user_agent_name ?? 'gRPC Node', cluster: this.node.cluster ?? 'test', ...(this.node.metadata ? { metadata: this.node.metadata } : {}) };
    }
    this.#sentNode = true;
    this.call.write(full as Req);
  }

  /** The next response, in order; throws when none comes within `timeoutMs` or the stream ended. */
  next(timeoutMs = 5000): Promise<Res> {
    return this.#queue.next('response', timeoutMs, () => this.#ended);
  }

  /** Resolves with the stream's status once the server ended it. */
  async ended(timeoutMs = 5000): Promise<grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (!this.status) {
      if (Date.now() > deadline) throw new Error('the stream did not end');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.status;
  }

  close(): void {
    try {
      this.call.cancel();
    } catch {
      // already closed
    }
    this.#client.close();
  }
}

export class SotwClient extends RawClient<Record<string, unknown>, SotwResponse> {
  constructor(port: number, node: NodeSpec, transport: Transport = {}) {
    super(port, node, 'StreamAggregatedResources', transport);
  }

  /** Subscribes (or ACKs, with `nonce`) `typeUrl` with `names`. */
  request(typeUrl: string, names: string[], options: { nonce?: string; version?: string; error?: string } = {}): void {
    this.send({
      type_url: typeUrl,
      resource_names: names,
      response_nonce: options.nonce ?? '',
      version_info: options.version ?? '',
      ...(options.error ? { error_detail: { code: 3, message: options.error } } : {}),
    });
  }

  /** ACKs `res` keeping `names` subscribed. */
  ack(res: SotwResponse, names: string[]): void {
    this.request(res.type_url, names, { nonce: res.nonce, version: res.version_info });
  }

  /** NACKs `res` with `message`, keeping `names` subscribed. */
  nack(res: SotwResponse, names: string[], message: string, ackedVersion = ''): void {
    this.request(res.type_url, names, { nonce: res.nonce, version: ackedVersion, error: message });
  }
}

export class DeltaClient extends RawClient<Record<string, unknown>, DeltaResponse> {
  constructor(port: number, node: NodeSpec, transport: Transport = {}) {
    super(port, node, 'DeltaAggregatedResources', transport);
  }

  request(
    typeUrl: string,
    options: { subscribe?: string[]; unsubscribe?: string[]; nonce?: string; error?: string; initial?: Record<string, string> } = {},
  ): void {
    this.send({
      type_url: typeUrl,
      resource_names_subscribe: options.subscribe ?? [],
      resource_names_unsubscribe: options.unsubscribe ?? [],
      initial_resource_versions: options.initial ?? {},
      response_nonce: options.nonce ?? '',
      ...(options.error ? { error_detail: { code: 3, message: options.error } } : {}),
    });
  }

  ack(res: DeltaResponse): void {
    this.request(res.type_url, { nonce: res.nonce });
  }
}

/** Names of the resources in a SotW response. */
export function sotwNames(res: SotwResponse): string[] {
  return res.resources.map((r) => resourceName(decodeAny(r))).sort();
}
