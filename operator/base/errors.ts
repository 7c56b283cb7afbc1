// The one error type meshpilot throws across module boundaries. Callers branch on `code`
// (or on a subclass where that is what they test), and on `retriable` to decide between a
// requeue with backoff and a terminal failure.

export const ERROR_CODES = {
  CONFIG_INVALID: 'ConfigInvalid',
  API_CONFLICT: 'ApiConflict',
  API_GONE: 'ApiGone',
  API_UNAVAILABLE: 'ApiUnavailable',
  API_REJECTED: 'ApiRejected',
  STORAGE_FAILED: 'StorageFailed',
  TELEMETRY_UNAVAILABLE: 'TelemetryUnavailable',
  BACKEND_UNAVAILABLE: 'BackendUnavailable',
  STATE_LOCKED: 'StateDirLocked',
  LISTEN_FAILED: 'ListenFailed',
  INTERNAL: 'Internal',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface MeshpilotErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class MeshpilotError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: MeshpilotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshpilotError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration or bad input: never retried, the user must change something. */
export class ConfigError extends MeshpilotError {
  constructor(message: string, options: Omit<MeshpilotErrorOptions, 'retriable'> = {}) {
    super(ERROR_CODES.CONFIG_INVALID, message, { ...options, retriable: false });
    this.name = 'ConfigError';
  }
}

/**
 * Normalises anything thrown at a boundary. Programmer errors (TypeError, RangeError, ...)
 * become non-retriable INTERNAL errors: retrying a bug only hides it.
 */
export function toMeshpilotError(e: unknown): MeshpilotError {
  if (e instanceof MeshpilotError) return e;
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError) {
    return new MeshpilotError(ERROR_CODES.INTERNAL, e.message, { retriable: false, cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new MeshpilotError(ERROR_CODES.INTERNAL, message, { retriable: true, cause: e });
}
