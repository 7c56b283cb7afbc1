// The `Status` objects the local API server answers with when a request fails, in exactly
// the shape and wording kube-apiserver uses: kubectl prints `message`, client libraries
// branch on `reason` and `code`, and kubectl's "is invalid" output is built from `details`.
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';

/** One entry of `Status.details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** A meta/v1 Status. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** What a resource is called in an error: `adaptiveroutes.traffic.meshpilot.io`, or `namespaces` in the core group. */
export interface ResourceName {
  group: string;
  /** Lower-case plural (for NotFound, Conflict, AlreadyExists) or Kind (for Invalid). */
  name: string;
}

function qualified(r: ResourceName): string {
  return r.group === '' ? r.name : `${r.name}.${r.group}`;
}

/** A failed request; the HTTP layer writes `status` with `status.code`. */
export class ApiError extends MeshpilotError {
  readonly status: KubeStatus;

  constructor(status: KubeStatus) {
    super(status.code === 409 ? ERROR_CODES.API_CONFLICT : status.code === 410 ? ERROR_CODES.API_GONE : ERROR_CODES.API_REJECTED, status.message ?? status.reason ?? 'request failed');
    this.name = 'ApiError';
    this.status = status;
  }
}

/** Builds a failure Status. */
export function failure(code: number, reason: string, message: string, details?: KubeStatus['details']): KubeStatus {
  const status: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return status;
}

/** The Status a successful delete of a built-in kind returns. */
export function success(details: KubeStatus['details']): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 } as KubeStatus;
}

export function notFound(resource: ResourceName, name: string): ApiError {
  return new ApiError(failure(404, 'NotFound', `${qualified(resource)} "${name}" not found`, { name, group: resource.group, kind: resource.name }));
}

export function alreadyExists(resource: ResourceName, name: string): ApiError {
  return new ApiError(failure(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, { name, group: resource.group, kind: resource.name }));
}

/** 409 for a stale resourceVersion or a failed precondition. */
export function conflict(resource: ResourceName, name: string, detail: string): ApiError {
  return new ApiError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${detail}`, { name, group: resource.group, kind: resource.name }),
  );
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';

/**
 * 422 Invalid, formatted like kube-apiserver's `errors.NewInvalid`: one cause reads
 * `Kind.group "name" is invalid: field: message`, several are joined inside `[...]`.
 */
export function invalid(kind: ResourceName, name: string, causes: StatusCause[]): ApiError {
  const unique = [...new Set(causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)))];
  const aggregate = unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
  return new ApiError(
    failure(422, 'Invalid', `${qualified(kind)} "${name}" is invalid: ${aggregate}`, { name, group: kind.group, kind: kind.name, causes }),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, 'BadRequest', message));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
}

export function unsupportedMediaType(): ApiError {
  return new ApiError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
}

export function notFoundPath(): ApiError {
  return new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource'));
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));
}

export function tooLarge(limit: number): ApiError {
  return new ApiError(failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`));
}

/** The 410 a watch or list gets when its resourceVersion is older than the kept history. */
export function expired(message = 'too old resource version'): ApiError {
  return new ApiError(failure(410, 'Expired', message));
}

export function internal(message: string): ApiError {
  return new ApiError(failure(500, 'InternalError', `Internal error occurred: ${message}`));
}

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(failure(503, 'ServiceUnavailable', message));
}
