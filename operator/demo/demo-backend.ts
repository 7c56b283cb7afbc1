// One region of the demo mesh: a gRPC server for meshpilot.demo.Demo/Call on 127.0.0.1 that
// answers as its region's condition says (latency, failures), and an HTTP /metrics endpoint
// with its own prom-client Registry carrying the gRPC server metrics of gRFC A66, the names
// the scrape and Prometheus sources read.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { counter, gauge, histogram } from '../base/metrics.ts';
import { DEMO_METHOD, DEMO_SERVICE_DEFINITION, REGION_METADATA, type DemoReply, type DemoRequest } from './demo-protocol.ts';
import { hashString, prng } from '../base/random.ts';
import { drawLatencyMs, type RegionCondition } from './demo-profile.ts';

/** gRFC A66's recommended bounds for grpc.server.call.duration, in seconds. */
export const A66_DURATION_BUCKETS = [
  0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016,
  0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100,
];

export interface DemoBackendOptions {
  region: string;
  clock: Clock;
  /** How the region treats a call that arrives at `nowMs`. */
  condition: (nowMs: number) => RegionCondition;
  /** Seeds the draws of latencies and failures. */
  seed: number;
}

export interface BackendCounts {
  calls: number;
  ok: number;
  failed: number;
}

function listen(server: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

interface BackendParts {
  region: string;
  grpcServer: grpc.Server;
  port: number;
  http: HttpServer;
  metricsPort: number;
  registry: Registry;
  counts: BackendCounts;
  closing: AbortController;
}

export class DemoBackend {
  readonly region: string;
  /** The gRPC port on 127.0.0.1. */
  readonly port: number;
  readonly metricsPort: number;
  readonly registry: Registry;
  /** Calls served since the start, as the backend itself counts them. */
  readonly counts: Readonly<BackendCounts>;
  readonly #grpc: grpc.Server;
  readonly #http: HttpServer;
  readonly #closing: AbortController;

  private constructor(parts: BackendParts) {
    this.region = parts.region;
    this.#grpc = parts.grpcServer;
    this.port = parts.port;
    this.#http = parts.http;
    this.metricsPort = parts.metricsPort;
    this.registry = parts.registry;
    this.counts = parts.counts;
    this.#closing = parts.closing;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  /** Starts both servers on ephemeral ports; rejects (with nothing left running) when a bind fails. */
  static async start(options: DemoBackendOptions): Promise<DemoBackend> {
    const registry = new Registry();
    const counts: BackendCounts = { calls: 0, ok: 0, failed: 0 };
    const closing = new AbortController();
    const grpcServer = new grpc.Server();
    grpcServer.addService(DEMO_SERVICE_DEFINITION, { Call: callHandler(options, backendMetrics(registry), counts, closing.signal) });
    const http = metricsServer(registry);
    let port: number;
    try {
      port = await new Promise<number>((resolve, reject) => {
        grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
      });
    } catch (e) {
      grpcServer.forceShutdown();
      throw e;
    }
    let metricsPort: number;
    try {
      metricsPort = await listen(http);
    } catch (e) {
      grpcServer.forceShutdown();
      throw e;
    }
    return new DemoBackend({ region: options.region, grpcServer, port, http, metricsPort, registry, counts, closing });
  }

  /** Fails the calls in flight, stops both servers and closes their connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error(`demo backend ${this.region} closed`));
    this.#grpc.forceShutdown();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}

/** The backend's series (gRFC A66 server metrics, and the brownout's ground truth), existing from the start. */
function backendMetrics(registry: Registry) {
  const labels = { grpc_method: DEMO_METHOD };
  const started = counter(registry, {
    name: 'grpc_server_call_started_total',
    help: 'The total number of RPCs started, including those that have not completed (gRFC A66 grpc.server.call.started)',
    labelNames: ['grpc_method'],
  });
  const duration = histogram(registry, {
    name: 'grpc_server_call_duration_seconds',
    help: 'Time from the end of the request headers to the end of the call (gRFC A66 grpc.server.call.duration)',
    labelNames: ['grpc_method', 'grpc_status'],
    buckets: A66_DURATION_BUCKETS,
  });
  const brownout = gauge(registry, {
    name: 'meshpilot_demo_brownout',
    help: '1 while the demo region is browning out on purpose (the ground truth the telemetry should show)',
    labelNames: ['region'],
  });
  // Series exist from the start, so that a region nobody calls reads as 0 calls per second
  // (a measurement) rather than as a page without the metrics (no data).
  started.inc(labels, 0);
  duration.zero({ ...labels, grpc_status: grpc.status[grpc.status.OK] });
  return { labels, started, duration, brownout };
}

/** The demo method: answers after the region's latency, failing the region's share of calls, counted and measured. */
function callHandler(options: DemoBackendOptions, m: ReturnType<typeof backendMetrics>, counts: BackendCounts, closing: AbortSignal) {
  const random = prng(options.seed ^ hashString(options.region));
  return (call: grpc.ServerUnaryCall<DemoRequest, DemoReply>, callback: grpc.sendUnaryData<DemoReply>): void => {
    const startMs = options.clock.now();
    m.started.inc(m.labels);
    counts.calls += 1;
    const condition = options.condition(startMs);
    m.brownout.set({ region: options.region }, condition.brownout ? 1 : 0);
    const latencyMs = drawLatencyMs(condition, random);
    const fail = random() < condition.errorFraction;
    const trailer = new grpc.Metadata();
    trailer.set(REGION_METADATA, options.region);
    options.clock.sleep(latencyMs, closing).then(
      () => {
        const status = fail ? grpc.status.UNAVAILABLE : grpc.status.OK;
        m.duration.observe({ ...m.labels, grpc_status: grpc.status[status] }, Math.max(0, options.clock.now() - startMs) / 1000);
        if (fail) {
          counts.failed += 1;
          callback({ code: status, details: `${options.region} is browning out`, metadata: trailer });
        } else {
          counts.ok += 1;
          callback(null, { seq: Number(call.request.seq) || 0, region: options.region, latencyMs }, trailer);
        }
      },
      () => callback({ code: grpc.status.UNAVAILABLE, details: `${options.region} is shutting down`, metadata: trailer }),
    );
  };
}

/** /metrics of `registry` over plain HTTP, for the operator's direct scrape. */
function metricsServer(registry: Registry) {
  return createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
    );
  });
}
