// The scrape source against a local HTTP server whose pages the test changes between
// scrapes, on a ManualClock: each scrape happens when the test moves time, and every number
// the sink receives is checked against what the pages say.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { ScrapeSource } from '../../../operator/telemetry/scrape/scrape-source.ts';
import type { HealthObservation, RegionSample, RequestObservation, RouteTarget, SourceKind, TelemetrySink } from '../../../operator/telemetry/types.ts';

const START = 1_700_000_000_000;
const INTERVAL_MS = 10_000;
const KEY = 'shop/checkout';
const CLUSTER = { 'eu-west': 'meshpilot|shop|checkout|eu-west', 'us-east': 'meshpilot|shop|checkout|us-east' } as const;

/** A sink that records, and notes anything that is not a finite, non-negative number. */
class RecordingSink implements TelemetrySink {
  readonly samples: RegionSample[] = [];
  readonly violations: string[] = [];

  recordSample(sample: RegionSample): number {
    for (const [signal, value] of Object.entries(sample.values)) {
      if (!Number.isFinite(value) || value < 0) this.violations.push(`${sample.region} ${signal}=${value}`);
    }
    this.samples.push(structuredClone(sample));
    return 1;
  }

  recordRequests(_source: SourceKind, _requests: readonly RequestObservation[]): number {
    throw new Error('the scrape source never records requests');
  }

  recordHealth(_health: HealthObservation): number {
    throw new Error('the scrape source never records health');
  }

  of(region: string): RegionSample[] {
    return this.samples.filter((s) => s.region === region);
  }
}

type Page = { status?: number; contentType?: string; body: string; chunked?: boolean } | 'hang';

/** Serves whatever page the test put at a path; counts requests per path. */
class PageServer {
  readonly pages = new Map<string, Page>();
  readonly hits = new Map<string, number>();
  readonly accepts: string[] = [];
  readonly #server: Server;
  readonly #hanging: ServerResponse[] = [];
  port = 0;

  constructor() {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => this.#serve(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    this.accepts.push(String(req.headers.accept));
    const page = this.pages.get(path);
    if (page === 'hang') {
      this.#hanging.push(res);
      return;
    }
    if (!page) {
      res.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': page.contentType ?? 'text/plain; version=0.0.4; charset=utf-8' };
    if (!page.chunked) headers['content-length'] = String(Buffer.byteLength(page.body));
    res.writeHead(page.status ?? 200, headers);
    if (page.chunked) {
      for (let i = 0; i < page.body.length; i += 1000) res.write(page.body.slice(i, i + 1000));
      res.end();
    } else {
      res.end(page.body);
    }
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A gRPC server page (gRFC A66 names); latency buckets in seconds. */
function grpcPage(counts: { ok: number; unavailable?: number }, buckets: Record<string, number>, extra = ''): string {
  const lines = [
    '# HELP grpc_server_call_started_total Calls started.',
    '# TYPE grpc_server_call_started_total counter',
    `grpc_server_call_started_total{grpc_method="shop.Checkout/Pay"} ${counts.ok + (counts.unavailable ?? 0)}`,
    '# HELP grpc_server_call_duration_seconds Call duration.',
    '# TYPE grpc_server_call_duration_seconds histogram',
  ];
  const series: [string, number][] = [['OK', counts.ok]];
  if (counts.unavailable !== undefined) series.push(['UNAVAILABLE', counts.unavailable]);
  for (const [status, total] of series) {
    // OK calls take every bucket's share; errors all land in the first bucket.
    for (const [le, n] of Object.entries(buckets)) {
      const value = status === 'OK' ? n - (counts.unavailable ?? 0) : total;
      lines.push(`grpc_server_call_duration_seconds_bucket{le="${le}",grpc_method="shop.Checkout/Pay",grpc_status="${status}"} ${value}`);
    }
    lines.push(`grpc_server_call_duration_seconds_sum{grpc_method="shop.Checkout/Pay",grpc_status="${status}"} ${total * 0.02}`);
    lines.push(`grpc_server_call_duration_seconds_count{grpc_method="shop.Checkout/Pay",grpc_status="${status}"} ${total}`);
  }
  return `${lines.join('\n')}\n${extra}`;
}

/** An Envoy /stats/prometheus page with two clusters; latency buckets in ms. */
function envoyPage(cluster: string, v: { total: number; fiveXx: number; buckets: Record<string, number>; active: number; remaining: number }): string {
  const other = 'meshpilot|other|route|eu-west';
  const lines = [
    '# TYPE envoy_cluster_upstream_rq_total counter',
    `envoy_cluster_upstream_rq_total{envoy_cluster_name="${cluster}"} ${v.total}`,
    `envoy_cluster_upstream_rq_total{envoy_cluster_name="${other}"} 999999`,
    '# TYPE envoy_cluster_upstream_rq_xx counter',
    `envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="${cluster}"} ${v.total - v.fiveXx}`,
    `envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="${cluster}"} ${v.fiveXx}`,
    `envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="${other}"} 5000`,
    '# TYPE envoy_cluster_upstream_rq_active gauge',
    `envoy_cluster_upstream_rq_active{envoy_cluster_name="${cluster}"} ${v.active}`,
    `envoy_cluster_upstream_rq_active{envoy_cluster_name="${other}"} 1000`,
    '# TYPE envoy_cluster_circuit_breakers_default_remaining_rq gauge',
    `envoy_cluster_circuit_breakers_default_remaining_rq{envoy_cluster_name="${cluster}"} ${v.remaining}`,
    '# TYPE envoy_cluster_upstream_rq_time histogram',
  ];
  for (const [le, n] of Object.entries(v.buckets)) lines.push(`envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="${cluster}",le="${le}"} ${n}`);
  for (const le of ['1', '+Inf']) lines.push(`envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="${other}",le="${le}"} 777`);
  lines.push(`envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="${cluster}"} 1`, `envoy_cluster_upstream_rq_time_count{envoy_cluster_name="${cluster}"} ${v.total}`);
  return `${lines.join('\n')}\n`;
}

function target(urls: Partial<Record<keyof typeof CLUSTER, string>>, interval = '10s'): RouteTarget {
  return {
    key: KEY,
    namespace: 'shop',
    name: 'checkout',
    host: 'checkout.shop.svc.cluster.local',
    regions: Object.entries(CLUSTER).map(([region, cluster]) => ({ region, service: `checkout.${region}.svc`, port: 8080, cluster })),
    telemetry: { scrape: { targets: Object.entries(urls).map(([region, url]) => ({ region, url: url! })), interval }, staleAfter: '60s' },
    decisionIntervalMs: 30_000,
    staleAfterMs: 60_000,
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ScrapeSource', () => {
  let server: PageServer;
  let clock: ManualClock;
  let registry: Registry;
  let sink: RecordingSink;
  let source: ScrapeSource;
  let logs: { level: number; msg: string; reason?: string; result?: string; suppressed?: number }[];

  beforeEach(async () => {
    server = new PageServer();
    await server.start();
    clock = new ManualClock(START);
    registry = new Registry();
    sink = new RecordingSink();
    logs = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()) as (typeof logs)[number]);
        done();
      },
    });
    source = new ScrapeSource({ sink, clock, logger: pino({ level: 'info' }, stream), metrics: telemetryMetrics(registry), timeoutMs: 2_000, maxBodyBytes: 64 * 1024 });
  });

  afterEach(async () => {
    await source.close();
    await server.close();
    expect(sink.violations).toEqual([]);
  });

  async function count(name: string, labels: Record<string, string>): Promise<number> {
    const metric = await registry.getSingleMetric(name)?.get();
    return metric?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0) ?? 0;
  }

  async function scrapes(): Promise<number> {
    return count('meshpilot_telemetry_queries_total', { source: 'scrape' });
  }

  /** Waits until `n` scrapes (one per target) have finished in total. */
  async function scraped(n: number): Promise<void> {
    await until(`${n} scrapes`, async () => (await scrapes()) >= n);
  }

  /** Moves time to the next scrape and waits for `targets` more scrapes to finish. */
  async function tick(targets = 1, ms = INTERVAL_MS): Promise<void> {
    const before = await scrapes();
    await clock.advance(ms);
    await scraped(before + targets);
  }

  it('primes on the first scrape and then writes one sample per scrape from gRPC server metrics', async () => {
    server.pages.set('/eu', { body: grpcPage({ ok: 100 }, { '0.01': 40, '0.05': 90, '0.1': 100, '+Inf': 100 }) });
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    expect(sink.samples).toEqual([]);
    expect(source.problem(KEY)).toBeUndefined();

    // 100 more calls in 10 s, 20 of them failed: deltas by le are 50, 90, 100, 100.
    server.pages.set('/eu', { body: grpcPage({ ok: 180, unavailable: 20 }, { '0.01': 90, '0.05': 180, '0.1': 200, '+Inf': 200 }) });
    await tick();

    expect(sink.samples).toHaveLength(1);
    const sample = sink.samples[0]!;
    expect(sample).toMatchObject({ route: KEY, region: 'eu-west', source: 'scrape', atMs: START + INTERVAL_MS });
    expect(sample.values.requestRate).toBeCloseTo(10, 12);
    expect(sample.values.errorRate).toBeCloseTo(0.2, 12);
    // p50: rank 50 fills le=0.01 exactly -> 10 ms; p90: rank 90 ends le=0.05 -> 50 ms; p99: 0.05 + 0.05 * 9/10 -> 95 ms.
    expect(sample.values.latencyP50).toBeCloseTo(10, 9);
    expect(sample.values.latencyP90).toBeCloseTo(50, 9);
    expect(sample.values.latencyP99).toBeCloseTo(95, 9);
    expect(sample.values.saturation).toBeUndefined();
    expect(server.accepts[0]).toMatch(/^text\/plain;version=0\.0\.4/);
    expect(await count('meshpilot_telemetry_queries_total', { source: 'scrape', result: 'ok' })).toBe(2);
  });

  it('reads Envoy cluster stats of the route cluster only, latency in ms, saturation from the circuit breaker', async () => {
    const cluster = CLUSTER['us-east'];
    server.pages.set('/envoy', { body: envoyPage(cluster, { total: 1000, fiveXx: 10, buckets: { '5': 500, '25': 900, '100': 1000, '+Inf': 1000 }, active: 1, remaining: 9 }) });
    source.watch(target({ 'us-east': server.url('/envoy') }));
    await scraped(1);
    server.pages.set('/envoy', { body: envoyPage(cluster, { total: 1400, fiveXx: 30, buckets: { '5': 700, '25': 1260, '100': 1400, '+Inf': 1400 }, active: 25, remaining: 75 }) });
    await tick();

    const values = sink.of('us-east')[0]!.values;
    expect(values.requestRate).toBeCloseTo(40, 12);
    expect(values.errorRate).toBeCloseTo(20 / 400, 12);
    // Deltas 200, 360, 400: p50 rank 200 -> 5 ms; p90 rank 360 -> 25 ms; p99 rank 396 -> 25 + 75 * 36/40.
    expect(values.latencyP50).toBeCloseTo(5, 9);
    expect(values.latencyP90).toBeCloseTo(25, 9);
    expect(values.latencyP99).toBeCloseTo(92.5, 9);
    expect(values.saturation).toBeCloseTo(0.25, 12);
  });

  it('reads a restarted target (counters dropped) as a reset, never as a negative rate', async () => {
    server.pages.set('/eu', { body: grpcPage({ ok: 5000 }, { '0.01': 5000, '+Inf': 5000 }) });
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    server.pages.set('/eu', { body: grpcPage({ ok: 30 }, { '0.01': 10, '+Inf': 30 }) });
    await tick();

    const values = sink.of('eu-west')[0]!.values;
    expect(values.requestRate).toBeCloseTo(3, 12);
    expect(values.errorRate).toBe(0);
    // 10 of 30 within 10 ms, the rest above: the median is the highest finite bound.
    expect(values.latencyP50).toBeCloseTo(10, 9);
  });

  it('measures a quiet interval as 0 requests per second and leaves error rate and latency out', async () => {
    const page = { body: grpcPage({ ok: 50 }, { '0.01': 50, '+Inf': 50 }) };
    server.pages.set('/eu', page);
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    await tick();

    expect(sink.of('eu-west')).toEqual([{ route: KEY, region: 'eu-west', atMs: START + INTERVAL_MS, source: 'scrape', values: { requestRate: 0 } }]);
  });

  it('reads an OpenMetrics page by its content type', async () => {
    const om = (n: number) =>
      [
        '# TYPE grpc_server_call_duration_seconds histogram',
        `grpc_server_call_duration_seconds_bucket{grpc_method="a",grpc_status="OK",le="0.1"} ${n}`,
        `grpc_server_call_duration_seconds_bucket{grpc_method="a",grpc_status="OK",le="+Inf"} ${n}`,
        `grpc_server_call_duration_seconds_count{grpc_method="a",grpc_status="OK"} ${n}`,
        `grpc_server_call_duration_seconds_sum{grpc_method="a",grpc_status="OK"} 1.5`,
        'grpc_server_call_duration_seconds_created{grpc_method="a",grpc_status="OK"} 1700000000.0',
        '# EOF',
        '',
      ].join('\n');
    server.pages.set('/om', { contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', body: om(10) });
    source.watch(target({ 'eu-west': server.url('/om') }));
    await scraped(1);
    server.pages.set('/om', { contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', body: om(30) });
    await tick();
    expect(sink.of('eu-west')[0]!.values.requestRate).toBeCloseTo(2, 12);
  });

  it.each([
    ['an HTTP error', { status: 503, body: 'overloaded' }, 'error', undefined, 'HTTP 503'],
    ['an HTML page', { contentType: 'text/html; charset=utf-8', body: '<html><body>login</body></html>' }, 'error', 'malformed', 'answered text/html; charset=utf-8, not the Prometheus text format'],
    ['text that is not the format', { body: 'grpc_server_call_started_total 1\n<html>\n' }, 'error', 'malformed', 'not the Prometheus text format: line 2: expected a metric name'],
    ['a page over the size limit', { body: `# ${'x'.repeat(70 * 1024)}\n` }, 'error', 'too_large', 'page of 71683 bytes is larger than the limit of 65536 bytes'],
    ['a chunked page over the size limit', { body: `# ${'x'.repeat(70 * 1024)}\n`, chunked: true }, 'error', 'too_large', 'page is larger than the limit of 65536 bytes'],
    ['a page without the metrics', { body: 'process_cpu_seconds_total 12\n' }, 'no_data', undefined, 'no grpc_server_call_duration_seconds or grpc_server_call_started_total series'],
    ['Envoy stats for other clusters only', { body: envoyPage('meshpilot|x|y|eu-west', { total: 1, fiveXx: 0, buckets: { '+Inf': 1 }, active: 0, remaining: 1 }) }, 'no_data', undefined, 'envoy_cluster_name="meshpilot|shop|checkout|eu-west"'],
  ] as const)('counts %s, gives no data, explains it and primes again afterwards', async (_what, bad, result, reject, reason) => {
    const good = (n: number) => ({ body: grpcPage({ ok: n }, { '0.01': n, '+Inf': n }) });
    server.pages.set('/eu', good(10));
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);

    server.pages.set('/eu', bad);
    await tick();
    expect(sink.samples).toEqual([]);
    expect(await count('meshpilot_telemetry_queries_total', { source: 'scrape', result })).toBe(1);
    if (reject) expect(await count('meshpilot_telemetry_events_rejected_total', { source: 'scrape', reason: reject })).toBe(1);
    else expect(await count('meshpilot_telemetry_events_rejected_total', { source: 'scrape' })).toBe(0);
    expect(source.problem(KEY)).toContain(`eu-west: scrape of ${server.url('/eu')}: `);
    expect(source.problem(KEY)).toContain(reason);
    expect(logs.filter((l) => l.level === 40 && l.result === result).map((l) => l.reason)).toEqual([expect.stringContaining(reason)]);

    // The next good page only primes again: no rate spans the failed scrape.
    server.pages.set('/eu', good(20));
    await tick();
    expect(sink.samples).toEqual([]);
    expect(source.problem(KEY)).toBeUndefined();
    server.pages.set('/eu', good(40));
    await tick();
    expect(sink.of('eu-west').map((s) => s.values.requestRate)).toEqual([2]);
  });

  it('counts a target nobody listens on as unreachable', async () => {
    const closed = new PageServer();
    await closed.start();
    const url = closed.url('/metrics');
    await closed.close();
    source.watch(target({ 'eu-west': url }));
    await scraped(1);
    expect(await count('meshpilot_telemetry_queries_total', { source: 'scrape', result: 'unreachable' })).toBe(1);
    expect(source.problem(KEY)).toMatch(/^eu-west: scrape of http:\/\/127\.0\.0\.1:\d+\/metrics: cannot connect: .*ECONNREFUSED/);
  });

  it('gives up on a target that does not answer after the timeout, on the injected clock', async () => {
    server.pages.set('/eu', 'hang');
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await until('the request to arrive', () => server.hits.get('/eu') === 1);
    expect(await scrapes()).toBe(0);
    await clock.advance(2_000);
    await scraped(1);
    expect(await count('meshpilot_telemetry_queries_total', { source: 'scrape', result: 'timeout' })).toBe(1);
    expect(source.problem(KEY)).toBe(`eu-west: scrape of ${server.url('/eu')}: no complete answer within 2000 ms`);
    expect(sink.samples).toEqual([]);
  });

  it('counts series with NaN or negative values as invalid and leaves out the signals they feed', async () => {
    server.pages.set('/eu', { body: grpcPage({ ok: 10 }, { '0.01': 10, '+Inf': 10 }) });
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    // The count series is NaN (no request rate, no error rate); the buckets are fine.
    const page = grpcPage({ ok: 20 }, { '0.01': 20, '+Inf': 20 }).replace(/(grpc_server_call_duration_seconds_count\{[^}]*\}) 20/, '$1 NaN');
    server.pages.set('/eu', { body: page });
    await tick();

    expect(await count('meshpilot_telemetry_events_rejected_total', { source: 'scrape', reason: 'invalid_value' })).toBe(1);
    const values = sink.of('eu-west')[0]!.values;
    expect(Object.keys(values).sort()).toEqual(['latencyP50', 'latencyP90', 'latencyP99']);
  });

  it('says which regions fail and which answer, and recovers', async () => {
    server.pages.set('/eu', { body: grpcPage({ ok: 1 }, { '+Inf': 1, '0.1': 1 }) });
    server.pages.set('/us', { status: 500, body: 'no' });
    source.watch(target({ 'eu-west': server.url('/eu'), 'us-east': server.url('/us') }));
    await scraped(2);
    expect(source.problem(KEY)).toBe(`us-east: scrape of ${server.url('/us')}: HTTP 500 Internal Server Error`);
    server.pages.set('/us', { body: grpcPage({ ok: 1 }, { '+Inf': 1, '0.1': 1 }) });
    await tick(2);
    expect(source.problem(KEY)).toBeUndefined();
    expect(logs.some((l) => l.msg === 'scrape target answers again')).toBe(true);
  });

  it('logs a failing target once per minute, with the count of lines held back', async () => {
    server.pages.set('/eu', { status: 502, body: 'bad gateway' });
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    for (let i = 0; i < 6; i++) await tick();
    const failures = logs.filter((l) => l.result === 'error');
    expect(failures).toHaveLength(2);
    expect(failures[1]).toMatchObject({ suppressed: 5 });
    expect(await count('meshpilot_telemetry_queries_total', { source: 'scrape', result: 'error' })).toBe(7);
  });

  it('fetches a URL shared by several regions once per scrape', async () => {
    const both = (a: number, b: number) =>
      envoyPage(CLUSTER['eu-west'], { total: a, fiveXx: 0, buckets: { '+Inf': a }, active: 0, remaining: 10 }) +
      envoyPage(CLUSTER['us-east'], { total: b, fiveXx: 0, buckets: { '+Inf': b }, active: 0, remaining: 10 }).replace(/^# TYPE.*\n/gm, '');
    server.pages.set('/envoy', { body: both(100, 100) });
    source.watch(target({ 'eu-west': server.url('/envoy'), 'us-east': server.url('/envoy') }));
    await scraped(2);
    server.pages.set('/envoy', { body: both(150, 300) });
    await tick(2);

    expect(server.hits.get('/envoy')).toBe(2);
    expect(sink.of('eu-west')[0]!.values.requestRate).toBeCloseTo(5, 12);
    expect(sink.of('us-east')[0]!.values.requestRate).toBeCloseTo(20, 12);
  });

  it('keeps its priming when watched again unchanged, starts over when the target changes, and stops on unwatch', async () => {
    server.pages.set('/eu', { body: grpcPage({ ok: 10 }, { '+Inf': 10 }) });
    server.pages.set('/eu2', { body: grpcPage({ ok: 10 }, { '+Inf': 10 }) });
    source.watch(target({ 'eu-west': server.url('/eu') }));
    await scraped(1);
    source.watch(target({ 'eu-west': server.url('/eu') }));
    server.pages.set('/eu', { body: grpcPage({ ok: 20 }, { '+Inf': 20 }) });
    await tick();
    expect(sink.samples).toHaveLength(1);

    source.watch(target({ 'eu-west': server.url('/eu2') }));
    await scraped(3);
    expect(sink.samples).toHaveLength(1);

    source.unwatch(KEY);
    expect(source.problem(KEY)).toBeUndefined();
    const hits = server.hits.get('/eu2');
    await clock.advance(5 * INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.hits.get('/eu2')).toBe(hits);
  });

  it('does not follow a route without scrape targets, and names targets for unknown regions', async () => {
    const none = target({});
    delete none.telemetry.scrape;
    source.watch(none);
    expect(source.problem(KEY)).toBeUndefined();

    server.pages.set('/eu', { body: grpcPage({ ok: 1 }, { '+Inf': 1 }) });
    const odd = target({ 'eu-west': server.url('/eu') });
    odd.telemetry.scrape!.targets.push({ region: 'mars', url: server.url('/mars') });
    source.watch(odd);
    await scraped(1);
    expect(source.problem(KEY)).toBe('telemetry.scrape.targets: mars is not a destination region of the route');
    expect(server.hits.get('/mars')).toBeUndefined();
  });
});
