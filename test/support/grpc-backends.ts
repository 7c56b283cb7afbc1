// Real gRPC echo backends for the xDS integration tests: N per "region", each on its own
// loopback address (127.0.0.2, 127.0.0.3, ... — all of 127/8 is loopback on Linux) and one
// shared port, so an endpoint list is just addresses. Every backend counts the calls it
// serves and can be told to fail a fraction of calls or every call with UNAVAILABLE, to add
// latency, or to die and come back on the same address.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadEcho, type EchoReply, type EchoRequest } from './grpc-echo.ts';
import { hashString, prng } from '../../operator/base/random.ts';

/** The three regions the tests spread backends over, in failover order. */
export const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;

/** An endpoint as the StaticEndpointResolver takes it. */
export interface BackendEndpoint {
  address: string;
  port: number;
}

export interface BackendFaults {
  /** Share of calls (0..1) answered with UNAVAILABLE, drawn from a seeded PRNG. */
  failFraction: number;
  /** Every call fails with UNAVAILABLE. */
  failAll: boolean;
  /** Added before every answer. */
  latencyMs: number;
}

export interface BackendCounts {
  /** Calls that reached this backend, failed or not (retries count again). */
  calls: number;
  ok: number;
  /** Calls this backend failed on purpose. */
  failed: number;
}

const NO_FAULTS: BackendFaults = { failFraction: 0, failAll: false, latencyMs: 0 };

/**
 * A gRPC server behind our own TCP listener (grpc-js's connection injector), so that `kill`
 * can cut every connection the way a dying process does (the peer sees a reset, not a
 * graceful GOAWAY or a cancelled stream) and `revive` can listen on the same address again.
 */
class Listener {
  readonly port: number;
  readonly #tcp: Server;
  readonly #grpc: grpc.Server;
  readonly #sockets: Set<Socket>;

  private constructor(tcp: Server, server: grpc.Server, port: number, sockets: Set<Socket>) {
    this.#tcp = tcp;
    this.#grpc = server;
    this.port = port;
    this.#sockets = sockets;
  }

  static async open(server: grpc.Server, address: string, port: number): Promise<Listener> {
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const sockets = new Set<Socket>();
    const tcp = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      injector.injectConnection(socket);
    });
    const bound = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: address, port }, () => {
        tcp.off('error', reject);
        resolve((tcp.address() as AddressInfo).port);
      });
    }).catch((e: unknown) => {
      server.forceShutdown();
      throw e;
    });
    return new Listener(tcp, server, bound, sockets);
  }

  /** Stops listening and resets every open connection; the gRPC server is shut down. */
  kill(): void {
    this.#tcp.close();
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
    this.#grpc.forceShutdown();
  }
}

const echo = loadEcho();

/** One echo backend. Replies carry its region and id (`eu-west-0`, ...). */
export class EchoBackend {
  readonly region: string;
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly counts: BackendCounts = { calls: 0, ok: 0, failed: 0 };
  #faults: BackendFaults = { ...NO_FAULTS };
  #random: () => number;
  #listener: Listener | undefined;

  private constructor(region: string, id: string, address: string, port: number, seed: number) {
    this.region = region;
    this.id = id;
    this.address = address;
    this.port = port;
    this.#random = prng(seed ^ hashString(id));
  }

  /** Starts a backend on `address:port` (port 0 picks a free one). Rejects when the bind fails. */
  static async start(region: string, id: string, address: string, port: number, seed = 1): Promise<EchoBackend> {
    // The port is known only once bound, and the backend is built with it: calls reach it through this slot.
    const slot: { backend?: EchoBackend } = {};
    const listener = await Listener.open(EchoBackend.#newServer((call, callback) => slot.backend!.#handle(call, callback)), address, port);
    const backend = new EchoBackend(region, id, address, listener.port, seed);
    backend.#listener = listener;
    slot.backend = backend;
    return backend;
  }

  static #newServer(handle: grpc.handleUnaryCall<EchoRequest, EchoReply>): grpc.Server {
    const server = new grpc.Server();
    server.addService(echo.service, { Echo: handle });
    return server;
  }

  #handle(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>): void {
    this.counts.calls += 1;
    const faults = this.#faults;
    const fail = faults.failAll || (faults.failFraction > 0 && this.#random() < faults.failFraction);
    const answer = (): void => {
      if (fail) {
        this.counts.failed += 1;
        callback({ code: grpc.status.UNAVAILABLE, details: `backend ${this.id} failed this call on purpose` });
      } else {
        this.counts.ok += 1;
        callback(null, { message: call.request.message, region: this.region, backend: this.id });
      }
    };
    if (faults.latencyMs > 0) setTimeout(answer, faults.latencyMs);
    else answer();
  }

  get endpoint(): BackendEndpoint {
    return { address: this.address, port: this.port };
  }

  get running(): boolean {
    return this.#listener !== undefined;
  }

  get faults(): Readonly<BackendFaults> {
    return this.#faults;
  }

  /** Changes the given faults; the others keep their value. */
  setFaults(faults: Partial<BackendFaults>): void {
    this.#faults = { ...this.#faults, ...faults };
  }

  /** Clears all faults and zeroes the counters. */
  reset(): void {
    this.#faults = { ...NO_FAULTS };
    this.resetCounts();
  }

  resetCounts(): void {
    this.counts.calls = 0;
    this.counts.ok = 0;
    this.counts.failed = 0;
  }

  /**
   * Dies like a killed process: the port closes and every open connection is reset, so
   * calls in flight fail with UNAVAILABLE on the client. Idempotent.
   */
  kill(): void {
    this.#listener?.kill();
    this.#listener = undefined;
  }

  /** Comes back on the same address and port. Idempotent. */
  async revive(): Promise<void> {
    if (this.#listener) return;
    this.#listener = await Listener.open(EchoBackend.#newServer((call, callback) => this.#handle(call, callback)), this.address, this.port);
  }
}

export interface FleetOptions {
  /** Backends per region, e.g. `{ 'eu-west': 2, 'us-east': 2 }`. */
  perRegion: Record<string, number>;
  /** Seeds the PRNGs that pick the failing calls. */
  seed?: number;
  /** First address is 127.0.0.<firstHost>; the others follow. */
  firstHost?: number;
}

/**
 * Backends in several regions, all on one port and each on its own loopback address. The
 * service name of a region (what a route's destination names and the endpoint resolver
 * maps) is `<region>.backends.test`.
 */
export class BackendFleet {
  readonly port: number;
  readonly backends: readonly EchoBackend[];

  private constructor(port: number, backends: EchoBackend[]) {
    this.port = port;
    this.backends = backends;
  }

  /** Starts every backend; on a port clash on one address it retries all on another port. */
  static async start(options: FleetOptions): Promise<BackendFleet> {
    const seed = options.seed ?? 1;
    const firstHost = options.firstHost ?? 2;
    const plan = Object.entries(options.perRegion).flatMap(([region, n]) =>
      Array.from({ length: n }, (_, i) => ({ region, id: `${region}-${i}` })),
    );
    if (plan.length === 0 || firstHost + plan.length > 255) throw new RangeError('fleet needs 1..253 backends');
    for (let attempt = 0; ; attempt++) {
      const started: EchoBackend[] = [];
      try {
        let port = 0;
        for (const [i, { region, id }] of plan.entries()) {
          const backend = await EchoBackend.start(region, id, `127.0.0.${firstHost + i}`, port, seed);
          started.push(backend);
          port = backend.port;
        }
        return new BackendFleet(port, started);
      } catch (e) {
        for (const b of started) b.kill();
        if (attempt >= 5) throw e;
      }
    }
  }

  static serviceName(region: string): string {
    return `${region}.backends.test`;
  }

  inRegion(region: string): EchoBackend[] {
    return this.backends.filter((b) => b.region === region);
  }

  byId(id: string): EchoBackend {
    const backend = this.backends.find((b) => b.id === id);
    if (!backend) throw new RangeError(`no backend ${id}`);
    return backend;
  }

  /** Region → endpoints, keyed by service name, as the StaticEndpointResolver takes it. */
  endpointMap(): Record<string, BackendEndpoint[]> {
    const map: Record<string, BackendEndpoint[]> = {};
    for (const b of this.backends) (map[BackendFleet.serviceName(b.region)] ??= []).push(b.endpoint);
    return map;
  }

  /** Calls served per backend id since the last reset. */
  calls(): Record<string, BackendCounts> {
    return Object.fromEntries(this.backends.map((b) => [b.id, { ...b.counts }]));
  }

  resetCounts(): void {
    for (const b of this.backends) b.resetCounts();
  }

  /** Kills every backend. Idempotent. */
  close(): void {
    for (const b of this.backends) b.kill();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
