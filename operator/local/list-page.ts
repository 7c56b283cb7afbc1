// One page of a list, as kube-apiserver pages it: label and field selectors, then objects
// after the continue token's key in key order, at most `limit` of them, with the token for
// the next page and (without selectors) how many remain.
import { objectKey } from '../base/object-key.ts';
import type { KubeObject } from './kube-object.ts';
import type { ResourceType } from './resource-registry.ts';
import { matchesFields, matchesLabels } from './selectors.ts';
import { badRequest } from './status.ts';
import type { ListQuery, ListResult } from './storage-requests.ts';

/** The key the page after `token` starts after; ApiError 400 for a token this server did not write. */
function continueFrom(token: string): string {
  let start: string | undefined;
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown };
    if (typeof decoded.start === 'string') start = decoded.start;
  } catch {
    // Not base64url JSON: refused below, as one with no start is.
  }
  if (start === undefined) throw badRequest('continue key is not valid: invalid continue token');
  return start;
}

/** How a field selector reads an object of `type`: its name, its namespace, or one of the type's field labels. */
export function fieldValueOf(type: ResourceType): (o: KubeObject) => (field: string) => string {
  return (o) => (f) => (f === 'metadata.name' ? (o.metadata.name ?? '') : f === 'metadata.namespace' ? (o.metadata.namespace ?? '') : (type.fieldLabels[f]?.(o) ?? ''));
}

/** The page of `objects` (all of `type` in the scope, in key order) that `query` asks for, at `resourceVersion`. */
export function listPage(objects: readonly KubeObject[], type: ResourceType, query: ListQuery, resourceVersion: string): ListResult {
  const start = query.continueToken ? continueFrom(query.continueToken) : undefined;
  const fieldOf = fieldValueOf(type);
  const keyOf = (o: KubeObject) => objectKey(o.metadata.namespace, o.metadata.name ?? '');
  const all = objects
    .filter((o) => matchesLabels(query.labels, o.metadata.labels) && matchesFields(query.fields, fieldOf(o)))
    .filter((o) => start === undefined || keyOf(o) > start);
  if (query.limit === undefined || query.limit <= 0 || all.length <= query.limit) return { items: all, resourceVersion };
  const items = all.slice(0, query.limit);
  const last = items[items.length - 1];
  const continueToken = Buffer.from(JSON.stringify({ rv: resourceVersion, start: last ? keyOf(last) : '' })).toString('base64url');
  const result: ListResult = { items, resourceVersion, continueToken };
  if (query.labels.length === 0 && query.fields.length === 0) result.remainingItemCount = all.length - items.length;
  return result;
}
