// PrometheusSource against a fake Prometheus HTTP API that answers what a real one can, good
// and bad: every bad answer must end as "no data" for that signal (never 0 or NaN in the
// sink), be counted under its result or reason, be logged, and be told by problem().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics, type TelemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { PrometheusSource } from '../../../operator/telemetry/prometheus/prometheus-source.ts';
import {
  SIGNALS,
  type HealthObservation,
  type RegionSample,
  type RequestObservation,
  type RouteTarget,
  type Signal,
  type SourceKind,
  type TelemetrySink,
} from '../../../operator/telemetry/types.ts';

const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;
const INTERVAL_MS = 10_000;
const TIMEOUT_MS = 300;

/** What the fake answers per signal (the test templates are the signal's name), per region. */
const VALUES: Record<Signal, Record<string, number>> = {
  requestRate: { 'eu-west': 12, 'us-east': 7, 'ap-south': 3 },
  errorRate: { 'eu-west': 0.1, 'us-east': 0.2, 'ap-south': 0.05 },
  latencyP50: { 'eu-west': 0.01, 'us-east': 0.02, 'ap-south': 0.03 },
  latencyP90: { 'eu-west': 0.05, 'us-east': 0.06, 'ap-south': 0.07 },
  latencyP99: { 'eu-west': 0.1, 'us-east': 0.2, 'ap-south': 0.3 },
  saturation: { 'eu-west': 0.4, 'us-east': 0.5, 'ap-south': 0.6 },
};

type Answer = { status?: number; contentType?: string; body: string } | 'hang';

interface Seen {
  path: string;
  form: URLSearchParams;
}

/** A Prometheus stand-in: by default it answers each signal's VALUES like Prometheus would. */
class FakePrometheus {
  readonly server: Server;
  readonly seen: Seen[] = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  /** Answers this signal's query instead (undefined: the default answer). */
  override: ((form: URLSearchParams, path: string) => Answer | undefined) | undefined;

  constructor() {
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const form = new URLSearchParams(text);
    const path = req.url ?? '';
    this.seen.push({ path, form });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const answer = this.override?.(form, path) ?? defaultAnswer(form, path);
    if (answer === 'hang') return;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight--;
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body);
  }

  queries(path = '/api/v1/query'): string[] {
    return this.seen.filter((s) => s.path === path).map((s) => s.form.get('query') ?? '');
  }
}

function vector(atSec: number, items: { labels: Record<string, string>; value: string }[]): string {
  return JSON.stringify({ status: 'success', data: { resultType: 'vector', result: items.map((i) => ({ metric: i.labels, value: [atSec, i.value] })) } });
}

function signalOf(form: URLSearchParams): Signal {
  const query = form.get('query') ?? '';
  const signal = SIGNALS.find((s) => query.startsWith(s));
  if (!signal) throw new Error(`unexpected query ${query}`);
  return signal;
}

function defaultAnswer(form: URLSearchParams, path: string): Answer {
  const signal = signalOf(form);
  const perRegion = /region="([^"]+)"/.exec(form.get('query') ?? '')?.[1];
  const regions = perRegion ? [perRegion] : REGIONS;
  if (path === '/api/v1/query_range') {
    const start = Number(form.get('start'));
    const end = Number(form.get('end'));
    const step = Number(form.get('step'));
    const times: number[] = [];
    for (let t = start; t <= end + 1e-6; t += step) times.push(t);
    const result = regions.map((r) => ({ metric: { region: r }, values: times.map((t) => [t, String(VALUES[signal][r])]) }));
    return { body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }) };
  }
  const at = Number(form.get('time'));
  return { body: vector(at, regions.map((r) => ({ labels: { region: r }, value: String(VALUES[signal][r]) }))) };
}

class RecordingSink implements TelemetrySink {
  readonly samples: RegionSample[] = [];
  recordSample(sample: RegionSample): number {
    this.samples.push(sample);
    return 1;
  }
  recordRequests(_source: SourceKind, _requests: readonly RequestObservation[]): number {
    return 0;
  }
  recordHealth(_health: HealthObservation): number {
    return 0;
  }
}

function route(change: (t: RouteTarget) => void = () => {}): RouteTarget {
  const queries = Object.fromEntries(SIGNALS.map((s) => [s, `${s}{route="{{route}}"}`]));
  const t: RouteTarget = {
    key: 'shop/checkout',
    namespace: 'shop',
    name: 'checkout',
    host: 'checkout.shop.svc.cluster.local',
    regions: REGIONS.map((region) => ({ region, service: `checkout.${region}.svc`, port: 80, cluster: `meshpilot|shop|checkout|${region}` })),
    telemetry: { staleAfter: '30s', prometheus: { queries } },
    decisionIntervalMs: INTERVAL_MS,
    staleAfterMs: 30_000,
  };
  change(t);
  return t;
}

interface World {
  fake: FakePrometheus;
  sink: RecordingSink;
  clock: ManualClock;
  metrics: TelemetryMetrics;
  logs: Record<string, unknown>[];
  source: PrometheusSource;
}

let world: World;
const toClose: (() => Promise<void>)[] = [];

async function start(options: { url?: string | null; concurrency?: number } = {}): Promise<World> {
  const fake = new FakePrometheus();
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  const sink = new RecordingSink();
  const clock = new ManualClock(1_700_000_000_000);
  const metrics = telemetryMetrics(new Registry());
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const source = new PrometheusSource({
    sink,
    clock,
    logger,
    metrics,
    defaultUrl: options.url === null ? undefined : (options.url ?? fake.url),
    windowMs: 60_000,
    timeoutMs: TIMEOUT_MS,
    concurrency: options.concurrency,
  });
  toClose.push(async () => {
    await source.close();
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
  });
  return { fake, sink, clock, metrics, logs, source };
}

async function count(metric: TelemetryMetrics['queries'] | TelemetryMetrics['rejected'], labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k as never] === x)).reduce((a, v) => a + v.value, 0);
}

/** Waits until the round the first watch starts (after its warm-up) is in the sink. */
async function firstRound(w: World): Promise<void> {
  await until(() => w.sink.samples.filter((s) => s.atMs === w.clock.now()).length === 3, 'the first round');
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** No value in the sink is NaN, infinite, or a 0 that no answer contained (the fake never answers 0). */
function expectOnlyRealValues(sink: RecordingSink): void {
  for (const s of sink.samples) {
    for (const [signal, value] of Object.entries(s.values)) {
      expect({ signal, finite: Number.isFinite(value), zero: value === 0 }).toEqual({ signal, finite: true, zero: false });
    }
  }
}

afterEach(async () => {
  for (const close of toClose.splice(0)) await close();
  expectOnlyRealValues(world.sink);
});

describe('PrometheusSource', () => {
  it('writes one sample per region per round with every signal, latency in ms, at the time Prometheus answered', async () => {
    world = await start();
    world.source.watch(route());
    // Not yet followed before: first a warm-up, then the round. Wait for both.
    await firstRound(world);
    const report = await world.source.pollOnce('shop/checkout');
    expect(report.problem).toBeUndefined();
    expect(report.samples).toHaveLength(3);
    const eu = report.samples.find((s) => s.region === 'eu-west');
    expect(eu).toEqual({
      route: 'shop/checkout',
      region: 'eu-west',
      atMs: world.clock.now(),
      source: 'prometheus',
      values: { requestRate: 12, errorRate: 0.1, latencyP50: 10, latencyP90: 50, latencyP99: 100, saturation: 0.4 },
    });
    expect(world.fake.queries()).toContain('requestRate{route="shop/checkout"}');
    expect(await count(world.metrics.queries, { source: 'prometheus', result: 'ok' })).toBe(6 + 6 + 6);
    expect(world.source.problem('shop/checkout')).toBeUndefined();
  });

  it('warms the window with a range query on the first watch, then queries every decision interval', async () => {
    world = await start();
    world.source.watch(route());
    await firstRound(world);
    const ranges = world.fake.seen.filter((s) => s.path === '/api/v1/query_range');
    expect(ranges).toHaveLength(6);
    const now = world.clock.now() / 1000;
    expect(ranges[0]!.form.get('step')).toBe('10.000');
    expect(Number(ranges[0]!.form.get('end'))).toBeCloseTo(now - 10, 3);
    // Inside the 60 s window only: the store could never read an older point.
    expect(Number(ranges[0]!.form.get('start'))).toBeCloseTo(now - 50, 3);
    // 5 instants × 3 regions from the range query, then the round's 3 at "now".
    const times = [...new Set(world.sink.samples.map((s) => s.atMs))].sort();
    expect(times).toHaveLength(6);
    expect(times[0]).toBe(world.clock.now() - 50_000);
    expect(world.sink.samples.filter((s) => s.atMs === times[0])).toHaveLength(3);
    expect(world.sink.samples.every((s) => Object.keys(s.values).length === 6)).toBe(true);

    world.source.watch(route()); // the same target again: no new warm-up, no extra round
    await world.clock.advance(INTERVAL_MS - 1);
    expect(world.fake.queries()).toHaveLength(6);
    await world.clock.advance(1);
    await until(() => world.fake.queries().length === 12, 'the second round');
    expect(world.fake.seen.filter((s) => s.path === '/api/v1/query_range')).toHaveLength(6);

    world.source.unwatch('shop/checkout');
    await world.clock.advance(5 * INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 50));
    expect(world.fake.queries()).toHaveLength(12);
    expect(world.source.problem('shop/checkout')).toBeUndefined();
  });

  const BAD: {
    name: string;
    answer: Answer;
    result: string;
    problem: RegExp | undefined;
    log: RegExp;
  }[] = [
    {
      name: 'an HTML page',
      answer: { contentType: 'text/html; charset=utf-8', body: '<html><body><h1>Sign in</h1></body></html>' },
      result: 'error',
      problem: /^prometheus http:\/\/127\.0\.0\.1:\d+: errorRate query failed: answered text\/html, not Prometheus JSON: "<html><body><h1>Sign in/,
      log: /answered text\/html, not Prometheus JSON/,
    },
    {
      name: 'HTTP 500',
      answer: { status: 500, contentType: 'text/plain', body: 'internal server error' },
      result: 'error',
      problem: /errorRate query failed: HTTP 500 Internal Server Error: internal server error$/,
      log: /HTTP 500/,
    },
    {
      name: 'status "error" with HTTP 422',
      answer: { status: 422, body: JSON.stringify({ status: 'error', errorType: 'execution', error: 'query processing would load too many samples' }) },
      result: 'error',
      problem: /errorRate query failed: HTTP 422 Unprocessable Entity: execution: query processing would load too many samples$/,
      log: /too many samples/,
    },
    {
      name: 'status "error" with HTTP 200',
      answer: { body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }) },
      result: 'error',
      problem: /errorRate query failed: bad_data: parse error at char 3$/,
      log: /bad_data: parse error/,
    },
    {
      name: 'a hang',
      answer: 'hang',
      result: 'timeout',
      problem: /^prometheus http:\/\/127\.0\.0\.1:\d+: errorRate query timed out after 300ms$/,
      log: /timed out after 300ms/,
    },
    {
      name: 'NaN for every region',
      answer: { body: vector(1_700_000_000, REGIONS.map((r) => ({ labels: { region: r }, value: 'NaN' }))) },
      result: 'no_data',
      problem: undefined,
      log: /errorRate.*returned only values that are not numbers \(NaN\)/,
    },
    {
      name: '+Inf and -Inf',
      answer: { body: vector(1_700_000_000, REGIONS.map((r, i) => ({ labels: { region: r }, value: i % 2 ? '-Inf' : '+Inf' }))) },
      result: 'no_data',
      problem: undefined,
      log: /not numbers \(\+Inf, -Inf\)/,
    },
    {
      name: 'an empty vector',
      answer: { body: vector(1_700_000_000, []) },
      result: 'no_data',
      problem: undefined,
      log: /returned an empty result/,
    },
    {
      name: 'JSON that is not a query result',
      answer: { body: JSON.stringify({ status: 'success', data: { something: 'else' } }) },
      result: 'error',
      problem: /errorRate query failed: answered JSON that is not a Prometheus query result/,
      log: /not a Prometheus query result/,
    },
  ];

  it.each(BAD)('takes $name as no data for that signal, counted as $result', async ({ answer, result, problem, log }) => {
    world = await start();
    world.source.watch(route());
    await firstRound(world);
    world.sink.samples.length = 0;
    world.fake.override = (form) => (signalOf(form) === 'errorRate' ? answer : undefined);
    const report = await world.source.pollOnce('shop/checkout');

    expect(report.samples.map((s) => s.region).sort()).toEqual([...REGIONS].sort());
    for (const s of report.samples) {
      expect(s.values.errorRate).toBeUndefined();
      expect(Object.keys(s.values).sort()).toEqual(SIGNALS.filter((x) => x !== 'errorRate').sort());
    }
    expect(await count(world.metrics.queries, { source: 'prometheus', result })).toBe(1);
    if (problem) expect(world.source.problem('shop/checkout')).toMatch(problem);
    else expect(world.source.problem('shop/checkout')).toBeUndefined();
    expect(world.logs.filter((l) => l.level === 40 && log.test(String(l.msg)))).toHaveLength(1);

    // Logged once per cause per minute, however many rounds fail alike; counted every time.
    await world.source.pollOnce('shop/checkout');
    expect(world.logs.filter((l) => log.test(String(l.msg)))).toHaveLength(1);
    expect(await count(world.metrics.queries, { source: 'prometheus', result })).toBe(2);
  });

  it('drops a NaN or +Inf region of an otherwise good answer, counting it as an invalid value', async () => {
    world = await start();
    world.source.watch(route());
    await firstRound(world);
    world.fake.override = (form) =>
      signalOf(form) === 'latencyP99'
        ? { body: vector(1_700_000_000, [{ labels: { region: 'eu-west' }, value: '+Inf' }, { labels: { region: 'us-east' }, value: 'NaN' }, { labels: { region: 'ap-south' }, value: '0.25' }]) }
        : undefined;
    const report = await world.source.pollOnce('shop/checkout');
    const p99 = Object.fromEntries(report.samples.map((s) => [s.region, s.values.latencyP99]));
    expect(p99).toEqual({ 'eu-west': undefined, 'us-east': undefined, 'ap-south': 250 });
    expect(await count(world.metrics.rejected, { source: 'prometheus', reason: 'invalid_value' })).toBe(2);
    expect(world.logs.some((l) => /answered \+Inf for latencyP99 of region eu-west of shop\/checkout: no data, not 0/.test(String(l.msg)))).toBe(true);
  });

  it('takes several series from a per-region template as no data for that region and says to aggregate', async () => {
    world = await start();
    world.source.watch(route((t) => (t.telemetry.prometheus!.queries!.saturation = 'saturation{region="{{region}}"}')));
    await firstRound(world);
    world.fake.override = (form) =>
      /region="us-east"/.test(form.get('query') ?? '')
        ? { body: vector(1_700_000_000, [{ labels: { pod: 'a' }, value: '0.5' }, { labels: { pod: 'b' }, value: '0.7' }]) }
        : undefined;
    const report = await world.source.pollOnce('shop/checkout');
    expect(Object.fromEntries(report.samples.map((s) => [s.region, s.values.saturation]))).toEqual({ 'eu-west': 0.4, 'us-east': undefined, 'ap-south': 0.6 });
    expect(await count(world.metrics.queries, { result: 'no_data' })).toBe(1);
    expect(world.logs.some((l) => /saturation.*us-east.*returned 2 series where at most 1 was expected: aggregate it/.test(String(l.msg)))).toBe(true);
  });

  it('takes two series for one region of a per-route template as no data for it, counted as a schema rejection', async () => {
    world = await start();
    world.source.watch(route());
    await firstRound(world);
    world.fake.override = (form) =>
      signalOf(form) === 'requestRate'
        ? {
            body: vector(1_700_000_000, [
              { labels: { region: 'eu-west', pod: 'a' }, value: '1' },
              { labels: { region: 'eu-west', pod: 'b' }, value: '2' },
              { labels: { region: 'us-east' }, value: '3' },
              { labels: { region: 'mars' }, value: '4' },
              { labels: {}, value: '5' },
            ]),
          }
        : undefined;
    const report = await world.source.pollOnce('shop/checkout');
    expect(Object.fromEntries(report.samples.map((s) => [s.region, s.values.requestRate]))).toEqual({ 'eu-west': undefined, 'us-east': 3, 'ap-south': undefined });
    // Two duplicates and one series without a region label; "mars" is another route's business.
    expect(await count(world.metrics.rejected, { reason: 'schema' })).toBe(3);
    expect(world.logs.some((l) => /returned 2 series for region eu-west: aggregate it/.test(String(l.msg)))).toBe(true);
    expect(world.logs.some((l) => /1 series without a region label/.test(String(l.msg)))).toBe(true);
  });

  it('counts an unreachable Prometheus, writes nothing and says why', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    world = await start({ url });
    const report = await (async () => {
      world.source.watch(route());
      return world.source.pollOnce('shop/checkout');
    })();
    expect(report.samples).toEqual([]);
    expect(report.problem).toBe(`prometheus ${url}: requestRate query failed: cannot connect (connection refused)`);
    expect(await count(world.metrics.queries, { result: 'unreachable' })).toBeGreaterThanOrEqual(6);
    expect(await count(world.metrics.queries, { result: 'ok' })).toBe(0);
    expect(world.logs.some((l) => /cannot connect \(connection refused\)/.test(String(l.msg)) && String(l.msg).includes(`${url}/api/v1/query`))).toBe(true);
  });

  it('queries the route\'s own Prometheus when it names one, and says so when there is none at all', async () => {
    world = await start({ url: null });
    world.source.watch(route());
    const report = await world.source.pollOnce('shop/checkout');
    expect(report.samples).toEqual([]);
    expect(report.problem).toBe('prometheus: no URL: set spec.telemetry.prometheus.url or give the operator a default Prometheus URL');
    expect(world.fake.seen).toEqual([]);

    world.source.watch(route((t) => (t.telemetry.prometheus!.url = world.fake.url)));
    const again = await world.source.pollOnce('shop/checkout');
    expect(again.samples).toHaveLength(3);
    expect(again.problem).toBeUndefined();
  });

  it('reports a broken override by its field and still queries the other signals', async () => {
    world = await start();
    world.source.watch(route((t) => (t.telemetry.prometheus!.queries!.errorRate = 'errorRate{r="{{foo}}"}')));
    await firstRound(world);
    const report = await world.source.pollOnce('shop/checkout');
    expect(report.problem).toMatch(/^prometheus: spec\.telemetry\.prometheus\.queries\.errorRate: unknown variable \{\{foo\}\}/);
    expect(report.samples.every((s) => s.values.errorRate === undefined && s.values.requestRate !== undefined)).toBe(true);
    expect(world.logs.some((l) => l.level === 50 && /unknown variable \{\{foo\}\}/.test(String(l.msg)))).toBe(true);
  });

  it('keeps at most `concurrency` queries in flight to one Prometheus', async () => {
    world = await start({ concurrency: 3 });
    world.fake.delayMs = 20;
    // Per-region templates: 18 queries per round.
    world.source.watch(route((t) => (t.telemetry.prometheus!.queries = Object.fromEntries(SIGNALS.map((s) => [s, `${s}{region="{{region}}"}`])))));
    await firstRound(world);
    const report = await world.source.pollOnce('shop/checkout');
    expect(report.samples).toHaveLength(3);
    expect(report.samples.every((s) => Object.keys(s.values).length === 6)).toBe(true);
    expect(world.fake.maxInFlight).toBe(3);
  });
});
