// A small client of the Prometheus HTTP API: instant and range queries over the global fetch
// (keep-alive by default), a deadline per query, and a bound on the queries in flight to one
// Prometheus. It never throws for a failure of Prometheus: every query ends in one outcome,
// classified as a QueryResult and counted in meshpilot_telemetry_queries_total{source="prometheus"}.
// Values that are not finite (Prometheus writes "NaN", "+Inf", "-Inf") never leave this module
// as numbers: they are dropped and handed back as `dropped` so the caller can count them.
import { formatDuration } from '../../base/duration.ts';
import { QUERY_RESULTS, type QueryResult, type TelemetryMetrics } from '../metrics.ts';

const SOURCE = 'prometheus';
const QUERY_EXCERPT = 120;
const BODY_EXCERPT = 200;
/** Connection errors that mean nothing listens there, or the host cannot be reached at all. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export type Labels = Record<string, string>;

/** One series of an instant query: its value at `atMs`. */
export interface InstantSeries {
  labels: Labels;
  atMs: number;
  value: number;
}

/** One series of a range query, finite points only, in time order. */
export interface RangeSeries {
  labels: Labels;
  points: { atMs: number; value: number }[];
}

/** A value Prometheus answered that is not a number meshpilot takes (NaN, +Inf, -Inf). */
export interface DroppedValue {
  labels: Labels;
  /** As Prometheus wrote it. */
  value: string;
}

export type QueryOutcome<T> =
  | { result: typeof QUERY_RESULTS.ok; series: T[]; dropped: DroppedValue[] }
  | {
      result: Exclude<QueryResult, typeof QUERY_RESULTS.ok>;
      /** Reads after "<signal> query": "timed out after 5s", "failed: HTTP 500 ...", "returned an empty result". */
      reason: string;
      /** The whole story for a log line: URL, query (truncated) and reason. */
      message: string;
      dropped: DroppedValue[];
    };

export interface QueryOptions {
  /** Aborts the query without an outcome (the promise rejects with the signal's reason): for shutdown. */
  signal?: AbortSignal;
  /** More series than this is "no data": the template must aggregate. */
  maxSeries?: number;
}

export interface PrometheusClientOptions {
  metrics: TelemetryMetrics;
  /** Deadline of one query, from the call (time spent waiting for a free slot included). */
  timeoutMs: number;
  /** Queries in flight per Prometheus (per URL origin); the rest wait in order. Default 8. */
  concurrency?: number;
}

/** A FIFO semaphore. */
class Slots {
  readonly #limit: number;
  #busy = 0;
  #waiting: { grant: () => void; signal: AbortSignal; onAbort: () => void }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Resolves when a slot is held; rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.#busy < this.#limit) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          this.#waiting = this.#waiting.filter((w) => w !== waiter);
          reject(signal.reason as Error);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter, so #busy stays the same.
    if (next) next.grant();
    else this.#busy--;
  }
}

/** Thrown inside a query to end it with a classified outcome. */
class Outcome extends Error {
  readonly result: Exclude<QueryResult, 'ok'>;
  constructor(result: Exclude<QueryResult, 'ok'>, reason: string) {
    super(reason);
    this.result = result;
  }
}

function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

// Duck-typed rather than instanceof: fetch's errors may come from another realm (a VM context).
function field(e: unknown, name: string): unknown {
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[name] : undefined;
}

function connectionCode(e: unknown): string | undefined {
  let cause = field(e, 'cause');
  // Happy eyeballs (localhost: ::1 and 127.0.0.1) reports an AggregateError of both attempts.
  const attempts = field(cause, 'errors');
  if (Array.isArray(attempts) && attempts.length > 0) cause = attempts[0];
  const code = field(cause, 'code') ?? field(e, 'code');
  return typeof code === 'string' ? code : undefined;
}

function labelsOf(metric: unknown): Labels {
  if (typeof metric !== 'object' || metric === null) return {};
  const labels: Labels = {};
  for (const [k, v] of Object.entries(metric)) if (typeof v === 'string') labels[k] = v;
  return labels;
}

/** [unixSeconds, "value"] as Prometheus writes a sample. */
function readPoint(pair: unknown): { atMs: number; raw: string } {
  if (!Array.isArray(pair) || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') {
    throw new Outcome(QUERY_RESULTS.error, 'failed: a sample is not [time, "value"]');
  }
  return { atMs: Math.round(pair[0] * 1000), raw: pair[1] };
}

function finite(raw: string): number | undefined {
  const value = Number(raw);
  return raw.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

interface Parsed {
  resultType: string;
  result: unknown;
}

/** Speaks to any number of Prometheus servers; one instance per process is enough. */
export class PrometheusClient {
  readonly #metrics: TelemetryMetrics;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #slots = new Map<string, Slots>();

  constructor(options: PrometheusClientOptions) {
    this.#metrics = options.metrics;
    this.#timeoutMs = options.timeoutMs;
    this.#concurrency = options.concurrency ?? 8;
  }

  /** An instant query at `atMs` (Prometheus's own time when absent). A scalar answer is one series without labels. */
  async instant(baseUrl: string, query: string, options: QueryOptions & { atMs?: number } = {}): Promise<QueryOutcome<InstantSeries>> {
    const form: Record<string, string> = { query };
    if (options.atMs !== undefined) form.time = (options.atMs / 1000).toFixed(3);
    return this.#run(baseUrl, '/api/v1/query', form, query, options, (data) => {
      const dropped: DroppedValue[] = [];
      const series: InstantSeries[] = [];
      if (data.resultType === 'scalar') {
        const { atMs, raw } = readPoint(data.result);
        const value = finite(raw);
        if (value === undefined) dropped.push({ labels: {}, value: raw });
        else series.push({ labels: {}, atMs, value });
        return { series, dropped, count: 1 };
      }
      if (data.resultType !== 'vector' || !Array.isArray(data.result)) {
        throw new Outcome(QUERY_RESULTS.error, `failed: answered a ${data.resultType} where an instant vector was expected`);
      }
      for (const item of data.result as { metric?: unknown; value?: unknown }[]) {
        const labels = labelsOf(item.metric);
        const { atMs, raw } = readPoint(item.value);
        const value = finite(raw);
        if (value === undefined) dropped.push({ labels, value: raw });
        else series.push({ labels, atMs, value });
      }
      return { series, dropped, count: data.result.length };
    });
  }

  /** A range query over [startMs, endMs] every stepMs. Series whose points are all NaN/Inf are dropped whole. */
  async range(
    baseUrl: string,
    query: string,
    options: QueryOptions & { startMs: number; endMs: number; stepMs: number },
  ): Promise<QueryOutcome<RangeSeries>> {
    const form = {
      query,
      start: (options.startMs / 1000).toFixed(3),
      end: (options.endMs / 1000).toFixed(3),
      step: (Math.max(1, options.stepMs) / 1000).toFixed(3),
    };
    return this.#run(baseUrl, '/api/v1/query_range', form, query, options, (data) => {
      if (data.resultType !== 'matrix' || !Array.isArray(data.result)) {
        throw new Outcome(QUERY_RESULTS.error, `failed: answered a ${data.resultType} where a range vector was expected`);
      }
      const dropped: DroppedValue[] = [];
      const series: RangeSeries[] = [];
      for (const item of data.result as { metric?: unknown; values?: unknown }[]) {
        const labels = labelsOf(item.metric);
        if (!Array.isArray(item.values)) throw new Outcome(QUERY_RESULTS.error, 'failed: a series has no values');
        const points: RangeSeries['points'] = [];
        for (const pair of item.values) {
          const { atMs, raw } = readPoint(pair);
          const value = finite(raw);
          if (value === undefined) dropped.push({ labels, value: raw });
          else points.push({ atMs, value });
        }
        if (points.length > 0) series.push({ labels, points });
      }
      return { series, dropped, count: data.result.length };
    });
  }

  async #run<T>(
    baseUrl: string,
    path: string,
    form: Record<string, string>,
    query: string,
    options: QueryOptions,
    read: (data: Parsed) => { series: T[]; dropped: DroppedValue[]; count: number },
  ): Promise<QueryOutcome<T>> {
    const started = performance.now();
    const url = `${baseUrl.replace(/\/+$/, '')}${path}`;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Outcome(QUERY_RESULTS.timeout, `timed out after ${formatDuration(this.#timeoutMs)}`)), this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
    let outcome: QueryOutcome<T>;
    let dropped: DroppedValue[] = [];
    try {
      const data = await this.#fetch(url, form, signal);
      const got = read(data);
      dropped = got.dropped;
      if (options.maxSeries !== undefined && got.count > options.maxSeries) {
        throw new Outcome(
          QUERY_RESULTS.noData,
          `returned ${got.count} series where at most ${options.maxSeries} was expected: aggregate it (e.g. sum(...) or max(...))`,
        );
      }
      if (got.series.length === 0) {
        throw new Outcome(
          QUERY_RESULTS.noData,
          got.dropped.length === 0
            ? 'returned an empty result'
            : `returned only values that are not numbers (${[...new Set(got.dropped.map((d) => d.value))].join(', ')})`,
        );
      }
      outcome = { result: QUERY_RESULTS.ok, series: got.series, dropped };
    } catch (e) {
      if (options.signal?.aborted && !deadline.signal.aborted) throw options.signal.reason;
      const failure = this.#classify(e, deadline.signal);
      outcome = {
        result: failure.result,
        reason: failure.message,
        message: `prometheus POST ${url} ${JSON.stringify(excerpt(query, QUERY_EXCERPT))}: ${failure.message}`,
        dropped,
      };
    } finally {
      clearTimeout(timer);
    }
    this.#metrics.queries.inc({ source: SOURCE, result: outcome.result });
    this.#metrics.queryDuration.observe({ source: SOURCE }, (performance.now() - started) / 1000);
    return outcome;
  }

  async #fetch(url: string, form: Record<string, string>, signal: AbortSignal): Promise<Parsed> {
    const origin = new URL(url).origin;
    let slots = this.#slots.get(origin);
    if (!slots) this.#slots.set(origin, (slots = new Slots(this.#concurrency)));
    await slots.acquire(signal);
    try {
      const response = await fetch(url, {
        method: 'POST',
        // Answers are a few KB; inflating each one cost more CPU (on both ends) than the bytes saved.
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'accept-encoding': 'identity' },
        body: new URLSearchParams(form).toString(),
        signal,
      });
      const text = await response.text();
      return parseAnswer(response.status, response.statusText, response.headers.get('content-type') ?? 'no content type', text);
    } finally {
      slots.release();
    }
  }

  #classify(e: unknown, deadline: AbortSignal): Outcome {
    if (deadline.aborted && deadline.reason instanceof Outcome) return deadline.reason;
    if (e instanceof Outcome) return e;
    const code = connectionCode(e);
    if (code !== undefined && UNREACHABLE_CODES.has(code)) {
      return new Outcome(QUERY_RESULTS.unreachable, `failed: cannot connect (${code === 'ECONNREFUSED' ? 'connection refused' : code})`);
    }
    const message = field(e, 'message');
    return new Outcome(QUERY_RESULTS.error, `failed: ${typeof message === 'string' ? message : String(e)}${code ? ` (${code})` : ''}`);
  }
}

/** The `data` of a Prometheus answer; throws an Outcome for anything else. */
function parseAnswer(status: number, statusText: string, contentType: string, text: string): Parsed {
  let body: { status?: unknown; data?: { resultType?: unknown; result?: unknown }; errorType?: unknown; error?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'status' in parsed) body = parsed;
  } catch {
    body = undefined;
  }
  const apiError = body?.status === 'error' ? `${String(body.errorType ?? 'error')}: ${String(body.error ?? 'no message')}` : undefined;
  if (status >= 400) {
    const detail = apiError ?? excerpt(text, BODY_EXCERPT);
    throw new Outcome(QUERY_RESULTS.error, `failed: HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}`);
  }
  if (body === undefined) {
    throw new Outcome(QUERY_RESULTS.error, `failed: answered ${contentType.split(';')[0]}, not Prometheus JSON: ${JSON.stringify(excerpt(text, BODY_EXCERPT))}`);
  }
  if (apiError !== undefined) throw new Outcome(QUERY_RESULTS.error, `failed: ${apiError}`);
  if (body.status !== 'success' || typeof body.data !== 'object' || body.data === null || typeof body.data.resultType !== 'string') {
    throw new Outcome(QUERY_RESULTS.error, `failed: answered JSON that is not a Prometheus query result: ${JSON.stringify(excerpt(text, BODY_EXCERPT))}`);
  }
  return { resultType: body.data.resultType, result: body.data.result };
}
