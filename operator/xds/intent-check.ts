// What the xDS builders need of a RouteIntent beyond its type: checked before an intent is
// accepted, so that a bad intent is refused with a ConfigError naming the field and the
// snapshot being served is not touched.
import { ConfigError } from '../base/errors.ts';
import { RETRY_ON } from '../api/types.ts';
import type { RouteIntent } from '../routing/route-intent.ts';

const MAX_HOST_LENGTH = 253;
const REGION_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const KEY_PART = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

function fail(intent: RouteIntent, field: string, message: string): never {
  throw new ConfigError(`route ${intent.key || '(no key)'}: ${field}: ${message}`);
}

function isInt(n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

/** A host is one domain pattern: no whitespace or "/", at most one "*", and only at either end. */
export function hostProblem(host: string): string | undefined {
  if (typeof host !== 'string' || host.length === 0) return 'must not be empty';
  if (host.length > MAX_HOST_LENGTH) return `longer than ${MAX_HOST_LENGTH} characters`;
  if (/[\s/|,]/.test(host)) return 'must not contain whitespace, "/", "|" or ","';
  const star = host.indexOf('*');
  if (star !== host.lastIndexOf('*')) return 'may contain at most one "*"';
  if (star > 0 && star !== host.length - 1) return '"*" is allowed only at the start or the end';
  return undefined;
}

/**
 * Throws ConfigError (field named as in RouteIntent, e.g. `destinations[1].port`) when the
 * xDS server cannot build `intent`. Pure.
 */
export function checkIntent(intent: RouteIntent): void {
  const [namespace, name, extra] = (intent.key ?? '').split('/');
  if (!namespace || !name || extra !== undefined || !KEY_PART.test(namespace) || !KEY_PART.test(name)) {
    fail(intent, 'key', `"${intent.key}" is not namespace/name`);
  }
  const hostIssue = hostProblem(intent.host);
  if (hostIssue) fail(intent, 'host', hostIssue);
  if (!Array.isArray(intent.destinations) || intent.destinations.length === 0) fail(intent, 'destinations', 'at least one destination is required');
  const regions = new Set<string>();
  let total = 0;
  intent.destinations.forEach((d, i) => {
    const at = `destinations[${i}]`;
    if (typeof d.region !== 'string' || !REGION_PATTERN.test(d.region)) fail(intent, `${at}.region`, `"${d.region}" is not a region name (letters, digits, ".", "_", "-")`);
    if (regions.has(d.region)) fail(intent, `${at}.region`, `"${d.region}" appears twice`);
    regions.add(d.region);
    if (typeof d.service !== 'string' || d.service.length === 0) fail(intent, `${at}.service`, 'must not be empty');
    if (!isInt(d.port, 1, 65535)) fail(intent, `${at}.port`, `${d.port} is not a port (1..65535)`);
    if (!isInt(d.weight, 0, 100)) fail(intent, `${at}.weight`, `${d.weight} is not a percentage (integer 0..100)`);
    if (!isInt(d.priority, 0)) fail(intent, `${at}.priority`, `${d.priority} is not a non-negative integer`);
    total += d.weight;
  });
  if (total !== 100) fail(intent, 'destinations[].weight', `weights sum to ${total}, expected 100`);
  const r = intent.retries;
  if (!r || !isInt(r.attempts, 0, 100)) fail(intent, 'retries.attempts', `${r?.attempts} is not a non-negative integer`);
  if (!isInt(r.perTryTimeoutMs, 1)) fail(intent, 'retries.perTryTimeoutMs', `${r.perTryTimeoutMs} must be a positive integer`);
  if (!Array.isArray(r.retryOn)) fail(intent, 'retries.retryOn', 'must be a list');
  r.retryOn.forEach((c, i) => {
    if (!(RETRY_ON as readonly string[]).includes(c)) fail(intent, `retries.retryOn[${i}]`, `unknown retry condition "${c}"`);
  });
  if (typeof r.crossRegion !== 'boolean') fail(intent, 'retries.crossRegion', 'must be true or false');
  if (r.crossRegion && !intent.failoverEnabled) fail(intent, 'retries.crossRegion', 'needs failoverEnabled: a retry goes to the next region in failover order');
  if (!isInt(intent.timeoutMs, 1)) fail(intent, 'timeoutMs', `${intent.timeoutMs} must be a positive integer`);
  const od = intent.outlierDetection;
  if (!od || !isInt(od.consecutive5xx, 1)) fail(intent, 'outlierDetection.consecutive5xx', `${od?.consecutive5xx} must be a positive integer`);
  if (!isInt(od.intervalMs, 1)) fail(intent, 'outlierDetection.intervalMs', `${od.intervalMs} must be a positive integer`);
  if (!isInt(od.baseEjectionTimeMs, 1)) fail(intent, 'outlierDetection.baseEjectionTimeMs', `${od.baseEjectionTimeMs} must be a positive integer`);
  if (!isInt(od.maxEjectionPercent, 0, 100)) fail(intent, 'outlierDetection.maxEjectionPercent', `${od.maxEjectionPercent} is not a percentage (0..100)`);
}
