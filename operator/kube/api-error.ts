// Errors from the Kubernetes API, normalised at the edge: callers branch on `statusCode`
// (404, 409, 410) and on `retriable`, never on client-node's exception classes.
import { ERROR_CODES, MeshpilotError, type ErrorCode } from '../base/errors.ts';

export class KubeApiError extends MeshpilotError {
  /** HTTP status, or 0 when no response arrived (connection refused, reset, timeout). */
  readonly statusCode: number;

  constructor(statusCode: number, message: string, cause?: unknown) {
    super(codeFor(statusCode), message, { retriable: isRetriableStatus(statusCode), cause });
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
  }
}

function codeFor(status: number): ErrorCode {
  if (status === 409) return ERROR_CODES.API_CONFLICT;
  if (status === 410) return ERROR_CODES.API_GONE;
  if (status === 0 || status === 429 || status >= 500) return ERROR_CODES.API_UNAVAILABLE;
  return ERROR_CODES.API_REJECTED;
}

/** Conflicts, throttling, server errors and transport failures are worth retrying; other 4xx are not. */
function isRetriableStatus(status: number): boolean {
  return status === 0 || status === 409 || status === 429 || status >= 500;
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return messageOf(JSON.parse(body));
    } catch {
      return body || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return undefined;
}

/**
 * Normalises anything a client-node call threw: ApiException (`code`, `body`), watch errors
 * (`statusCode`), and transport errors (status 0). Already-normalised errors pass through.
 */
export function toKubeApiError(e: unknown, what: string): KubeApiError {
  if (e instanceof KubeApiError) return e;
  const err = e as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  const status =
    typeof err?.statusCode === 'number' ? err.statusCode : typeof err?.code === 'number' ? err.code : 0;
  const detail = messageOf(err?.body) ?? (typeof err?.message === 'string' ? err.message : String(e));
  return new KubeApiError(status, `${what}: ${status ? `HTTP ${status}: ` : ''}${detail}`, e);
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.statusCode === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.statusCode === 409;
}

export function isGone(e: unknown): boolean {
  return e instanceof KubeApiError && e.statusCode === 410;
}
