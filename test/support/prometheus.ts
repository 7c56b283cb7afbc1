// Real Prometheus for tests and benchmarks, and the backends it scrapes.
//
// PrometheusServer starts Debian's /usr/bin/prometheus on a free loopback port with a
// generated config (scrape and evaluation every second, static targets with their labels) and
// a TSDB in a temp dir, waits for /-/ready, and on stop() terminates it (SIGTERM, then SIGKILL)
// and removes the dir.
//
// MetricsBackend is a prom-client /metrics endpoint on loopback that exports the metric names
// meshpilot's default PromQL templates read: gRPC's OpenTelemetry metrics (gRFC A66) as a
// Prometheus exporter names them, and Envoy's cluster stats. Its traffic is synthetic but goes
// through the real client library: a timer observes requests at the configured rate, error
// rate and latency, so Prometheus sees counters and histograms move exactly as a server's would.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { stringify } from 'yaml';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** One scrape target: host:port and the target labels Prometheus attaches to its series. */
export interface ScrapeTarget {
  address: string;
  labels: Record<string, string>;
}

export interface PrometheusStartOptions {
  targets: ScrapeTarget[];
  /** Default 1000. */
  scrapeIntervalMs?: number;
  binary?: string;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class PrometheusServer {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<void>;
  #stderr = '';

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts Prometheus and resolves when it is ready. Throws with a provisioning hint when the binary is missing. */
  static async start(options: PrometheusStartOptions): Promise<PrometheusServer> {
    const binary = options.binary ?? PROMETHEUS_BINARY;
    try {
      accessSync(binary, constants.X_OK);
    } catch {
      throw new Error(`Debian's prometheus is missing (${binary}): run \`bash test/support/provision.sh\` (as root) to install it`);
    }
    const interval = `${Math.round((options.scrapeIntervalMs ?? 1000) / 1000) || 1}s`;
    const dir = mkdtempSync(join(tmpdir(), 'meshpilot-prometheus-'));
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: 'backends',
          static_configs: options.targets.map((t) => ({ targets: [t.address], labels: t.labels })),
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir);
    try {
      await server.#waitReady(20_000);
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`prometheus exited before it was ready: ${this.#stderr}`);
      try {
        const response = await fetch(`${this.url}/-/ready`);
        await response.text();
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(50);
    }
    throw new Error(`prometheus was not ready within ${timeoutMs} ms: ${this.#stderr}`);
  }

  /** The result of an instant query (vector items), for tests to wait on. Throws on an API error. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: promql }) });
    const body = (await response.json()) as { status: string; error?: string; data?: { result: never[] } };
    if (body.status !== 'success') throw new Error(`prometheus query ${promql} failed: ${body.error}`);
    return body.data?.result ?? [];
  }

  /** Polls `promql` until it returns at least `series` series. */
  async waitForSeries(promql: string, series: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline) {
      seen = (await this.query(promql)).length;
      if (seen >= series) return;
      await sleep(200);
    }
    throw new Error(`prometheus: ${promql} returned ${seen} series after ${timeoutMs} ms, expected ${series}`);
  }

  /** SIGTERM, SIGKILL after 5 s, then removes the TSDB. Idempotent. */
  async stop(): Promise<void> {
    if (this.running) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(killer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The traffic of one workload; change it with MetricsBackend.set. */
export interface Traffic {
  /** Requests per second. */
  rps: number;
  /** Share of requests that fail, 0..1. */
  errorRate: number;
  /** Median latency; requests spread evenly over [0.8, 1.2] × this. */
  latencyMs: number;
}

/** A gRPC server's A66 metrics; `service` is exported as a label only when given (else a target label carries it). */
export interface GrpcWorkload extends Traffic {
  kind: 'grpc';
  method?: string;
  service?: string;
}

/** One Envoy cluster's stats; saturation is `active` of `maxRequests` requests in flight. */
export interface EnvoyWorkload extends Traffic {
  kind: 'envoy';
  cluster: string;
  active?: number;
  maxRequests?: number;
}

export type Workload = GrpcWorkload | EnvoyWorkload;

/** gRFC A66's bucket boundaries for latency, in seconds. */
const A66_BUCKETS = [
  0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016, 0.02,
  0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100,
];
/** Envoy's default histogram buckets, in milliseconds. */
const ENVOY_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const TICK_MS = 50;
const GOLDEN = 0.6180339887498949;

interface Running {
  workload: Workload;
  /** Requests owed but not yet observed (fractions of one). */
  due: number;
  /** Failures owed (fractions of one): exactly errorRate of requests fail. */
  failDue: number;
  /** Position in the low-discrepancy sequence that spreads latencies. */
  n: number;
}

export class MetricsBackend {
  readonly registry = new Registry();
  readonly #server: Server;
  readonly #workloads = new Map<string, Running>();
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();
  readonly #grpcStarted: Counter<'grpc_method' | 'service'>;
  readonly #grpcDuration: Histogram<'grpc_method' | 'grpc_status' | 'service'>;
  readonly #envoyTotal: Counter<'envoy_cluster_name'>;
  readonly #envoyXx: Counter<'envoy_cluster_name' | 'envoy_response_code_class'>;
  readonly #envoyTime: Histogram<'envoy_cluster_name'>;
  readonly #envoyActive: Gauge<'envoy_cluster_name'>;
  readonly #envoyRemaining: Gauge<'envoy_cluster_name'>;
  /** Requests observed so far, per workload id. */
  readonly observed = new Map<string, { requests: number; failed: number }>();

  private constructor() {
    this.#server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    const registers = [this.registry];
    this.#grpcStarted = new Counter({ name: 'grpc_server_call_started_total', help: 'A66 grpc.server.call.started', labelNames: ['grpc_method', 'service'], registers });
    this.#grpcDuration = new Histogram({
      name: 'grpc_server_call_duration_seconds',
      help: 'A66 grpc.server.call.duration',
      labelNames: ['grpc_method', 'grpc_status', 'service'],
      buckets: A66_BUCKETS,
      registers,
    });
    this.#envoyTotal = new Counter({ name: 'envoy_cluster_upstream_rq_total', help: 'Envoy upstream_rq_total', labelNames: ['envoy_cluster_name'], registers });
    this.#envoyXx = new Counter({
      name: 'envoy_cluster_upstream_rq_xx',
      help: 'Envoy upstream_rq_<class>xx',
      labelNames: ['envoy_cluster_name', 'envoy_response_code_class'],
      registers,
    });
    this.#envoyTime = new Histogram({
      name: 'envoy_cluster_upstream_rq_time',
      help: 'Envoy upstream_rq_time (ms)',
      labelNames: ['envoy_cluster_name'],
      buckets: ENVOY_BUCKETS,
      registers,
    });
    this.#envoyActive = new Gauge({ name: 'envoy_cluster_upstream_rq_active', help: 'Envoy upstream_rq_active', labelNames: ['envoy_cluster_name'], registers });
    this.#envoyRemaining = new Gauge({
      name: 'envoy_cluster_circuit_breakers_default_remaining_rq',
      help: 'Envoy circuit_breakers.default.remaining_rq',
      labelNames: ['envoy_cluster_name'],
      registers,
    });
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Starts a backend on 127.0.0.1 with the given workloads, keyed by id. */
  static async start(workloads: Record<string, Workload> = {}): Promise<MetricsBackend> {
    const backend = new MetricsBackend();
    await new Promise<void>((resolve, reject) => backend.#server.once('error', reject).listen(0, '127.0.0.1', resolve));
    for (const [id, w] of Object.entries(workloads)) backend.add(id, w);
    return backend;
  }

  get address(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  add(id: string, workload: Workload): void {
    this.#workloads.set(id, { workload: { ...workload }, due: 0, failDue: 0, n: 0 });
    this.observed.set(id, { requests: 0, failed: 0 });
    if (workload.kind === 'envoy') this.#setGauges(workload);
  }

  /** Changes a workload's traffic from now on. */
  set(id: string, change: Partial<Traffic> & { active?: number; maxRequests?: number }): void {
    const running = this.#workloads.get(id);
    if (!running) throw new Error(`no workload ${id}`);
    running.workload = { ...running.workload, ...change };
    if (running.workload.kind === 'envoy') this.#setGauges(running.workload);
  }

  #setGauges(w: EnvoyWorkload): void {
    if (w.active === undefined) return;
    const max = w.maxRequests ?? 1024;
    this.#envoyActive.set({ envoy_cluster_name: w.cluster }, w.active);
    this.#envoyRemaining.set({ envoy_cluster_name: w.cluster }, Math.max(0, max - w.active));
  }

  #tick(): void {
    const now = performance.now();
    const dt = (now - this.#last) / 1000;
    this.#last = now;
    for (const [id, running] of this.#workloads) {
      const w = running.workload;
      running.due += w.rps * dt;
      const count = Math.floor(running.due);
      running.due -= count;
      const seen = this.observed.get(id)!;
      for (let i = 0; i < count; i++) {
        running.failDue += w.errorRate;
        const failed = running.failDue >= 1;
        if (failed) running.failDue -= 1;
        running.n++;
        const latencyMs = w.latencyMs * (0.8 + 0.4 * ((running.n * GOLDEN) % 1));
        this.#observe(w, failed, latencyMs);
        seen.requests++;
        if (failed) seen.failed++;
      }
    }
  }

  #observe(w: Workload, failed: boolean, latencyMs: number): void {
    if (w.kind === 'grpc') {
      const base = { grpc_method: w.method ?? 'test.Echo/Echo', ...(w.service ? { service: w.service } : {}) };
      this.#grpcStarted.inc(base);
      this.#grpcDuration.observe({ ...base, grpc_status: failed ? 'UNAVAILABLE' : 'OK' }, latencyMs / 1000);
      return;
    }
    const cluster = { envoy_cluster_name: w.cluster };
    this.#envoyTotal.inc(cluster);
    this.#envoyXx.inc({ ...cluster, envoy_response_code_class: failed ? '5' : '2' });
    this.#envoyTime.observe(cluster, latencyMs);
  }

  /** Stops the traffic and the endpoint. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
