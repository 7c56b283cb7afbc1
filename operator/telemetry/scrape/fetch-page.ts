// One HTTP GET of a /metrics page, bounded in time (on the injected clock) and in size, with
// every way it can go wrong turned into a ScrapeError that says which QUERY_RESULTS outcome
// it is and, where the page itself is thrown away, which REJECT_REASONS reason.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Clock } from '../../base/clock.ts';
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';
import { QUERY_RESULTS, REJECT_REASONS, type QueryResult, type RejectReason } from '../metrics.ts';
import type { ExpositionFormat } from './exposition-lexicon.ts';

/** What the scrape asks for: the classic text format, as Prometheus itself does when it wants no protobuf. */
export const ACCEPT = 'text/plain;version=0.0.4;q=1.0,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

export class ScrapeError extends MeshpilotError {
  readonly result: QueryResult;
  /** Set when a page arrived and was thrown away (not the format, too large). */
  readonly reject: RejectReason | undefined;

  constructor(result: QueryResult, message: string, reject?: RejectReason, cause?: unknown) {
    super(ERROR_CODES.INTERNAL, message, { retriable: true, cause });
    this.name = 'ScrapeError';
    this.result = result;
    this.reject = reject;
  }
}

export interface FetchedPage {
  text: string;
  format: ExpositionFormat;
  bytes: number;
}

export interface FetchOptions {
  clock: Clock;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Aborts the request (unwatch, close); the promise then rejects with the signal's reason. */
  signal: AbortSignal;
  agents: { http: http.Agent; https: https.Agent };
}

/** Connection errors that mean nothing is listening there (or no such host). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** The dialect a Content-Type announces; undefined when it is not a Prometheus text format. */
export function formatOf(contentType: string | undefined): ExpositionFormat | undefined {
  if (contentType === undefined || contentType.trim() === '') return 'prometheus';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'text/plain') return 'prometheus';
  if (mediaType === 'application/openmetrics-text') return 'openmetrics';
  return undefined;
}

/**
 * GETs `url` and returns its body as text with the dialect its Content-Type announces.
 * Rejects with ScrapeError: `unreachable` when nothing answers, `timeout` after `timeoutMs`
 * of the clock, `error` for an HTTP error status, another media type (an HTML error page),
 * a compressed body or one larger than `maxBodyBytes`. Rejects with the signal's reason when
 * aborted.
 */
export function fetchPage(url: string, options: FetchOptions): Promise<FetchedPage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new ScrapeError(QUERY_RESULTS.error, `invalid URL ${JSON.stringify(url)}`));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.reject(new ScrapeError(QUERY_RESULTS.error, `unsupported URL scheme ${parsed.protocol} (http or https)`));
  }
  if (options.signal.aborted) return Promise.reject(options.signal.reason);

  return new Promise<FetchedPage>((resolve, reject) => {
    const done = new AbortController();
    let settled = false;
    const finish = (error: unknown, page?: FetchedPage): void => {
      if (settled) return;
      settled = true;
      done.abort();
      options.signal.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        request?.destroy();
        reject(error);
      } else {
        resolve(page!);
      }
    };
    const onAbort = (): void => finish(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });

    const transport = parsed.protocol === 'https:' ? https : http;
    let request: http.ClientRequest | undefined;
    const send = (retry: boolean): void => {
      request = transport.request(
        parsed,
        {
          method: 'GET',
          agent: parsed.protocol === 'https:' ? options.agents.https : options.agents.http,
          headers: { accept: ACCEPT, 'accept-encoding': 'identity', 'user-agent': 'meshpilot-scrape' },
        },
        (response) => readResponse(response, options.maxBodyBytes, finish),
      );
      const sent = request;
      sent.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? '';
        // A kept-alive connection the server closed (it restarted, or dropped an idle socket
        // just as this request went out) says nothing about the target: ask once more on a new one.
        if (retry && sent.reusedSocket && code === 'ECONNRESET' && !settled) {
          send(false);
          return;
        }
        const result = UNREACHABLE_CODES.has(code) ? QUERY_RESULTS.unreachable : QUERY_RESULTS.error;
        finish(new ScrapeError(result, `${result === QUERY_RESULTS.unreachable ? 'cannot connect' : 'request failed'}: ${e.message}`, undefined, e));
      });
      sent.end();
    };
    send(true);
    options.clock.sleep(options.timeoutMs, done.signal).then(
      () => finish(new ScrapeError(QUERY_RESULTS.timeout, `no complete answer within ${options.timeoutMs} ms`)),
      () => undefined,
    );
  });
}

/**
 * Reads a response into a page, or refuses it: an HTTP error status, another media type, a
 * compressed body, or one larger than `maxBodyBytes` (by its declared length, or as it
 * arrives). Calls `finish` once with the page or the ScrapeError.
 */
function readResponse(response: http.IncomingMessage, maxBodyBytes: number, finish: (error: unknown, page?: FetchedPage) => void): void {
  const status = response.statusCode ?? 0;
  const contentType = response.headers['content-type'];
  if (status < 200 || status > 299) {
    response.resume();
    return finish(new ScrapeError(QUERY_RESULTS.error, `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`));
  }
  const format = formatOf(contentType);
  if (format === undefined) {
    response.resume();
    return finish(new ScrapeError(QUERY_RESULTS.error, `answered ${contentType}, not the Prometheus text format`, REJECT_REASONS.malformed));
  }
  const encoding = response.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    response.resume();
    return finish(new ScrapeError(QUERY_RESULTS.error, `answered with content-encoding ${encoding} although identity was asked for`, REJECT_REASONS.malformed));
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    return finish(new ScrapeError(QUERY_RESULTS.error, `page of ${declared} bytes is larger than the limit of ${maxBodyBytes} bytes`, REJECT_REASONS.tooLarge));
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  response.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBodyBytes) {
      finish(new ScrapeError(QUERY_RESULTS.error, `page is larger than the limit of ${maxBodyBytes} bytes`, REJECT_REASONS.tooLarge));
    } else {
      chunks.push(chunk);
    }
  });
  response.on('end', () => finish(undefined, { text: Buffer.concat(chunks, bytes).toString('utf8'), format, bytes }));
  response.on('error', (e) => finish(new ScrapeError(QUERY_RESULTS.error, `page cut off: ${e.message}`, undefined, e)));
  response.on('aborted', () => finish(new ScrapeError(QUERY_RESULTS.error, 'page cut off by the server')));
}
