// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, including `test`) and,
// for built-in kinds only, strategic merge patch. The built-in kinds served here have no
// list fields with merge keys, so a strategic merge patch is a merge patch once its `$`
// directives are honoured; custom resources refuse it with 415, as kube-apiserver does.
import { isObject } from '../base/plain-value.ts';
import { deepEqual } from './json-util.ts';
import { ApiError, badRequest, failure, unsupportedMediaType } from './status.ts';

export const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}

/** A merge patch that honours strategic-merge `$patch: delete|replace` and drops other `$` directives. */
function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'delete') return undefined;
  const replace = patch.$patch === 'replace';
  const result: Record<string, unknown> = isObject(target) && !replace ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    // $setElementOrder, $retainKeys, $deleteFromPrimitiveList only matter for lists with merge keys.
    if (k.startsWith('$')) continue;
    if (v === null) delete result[k];
    else {
      const merged = strategicMergePatch(result[k], v);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    }
  }
  return result;
}

function unprocessable(message: string): ApiError {
  return new ApiError(failure(422, 'Invalid', message));
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`json patch: invalid path "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Resolves the parent container of `tokens` and the last token. */
function parentOf(doc: unknown, tokens: string[], pointer: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, pointer, false)];
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw unprocessable(`json patch: path "${pointer}" does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw unprocessable(`json patch: path "${pointer}" does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], token: string, pointer: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw unprocessable(`json patch: invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) throw unprocessable(`json patch: array index ${i} out of bounds in "${pointer}"`);
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = decodePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, pointer, false)];
  if (!Object.hasOwn(parent, key)) throw unprocessable(`json patch: path "${pointer}" does not exist`);
  return parent[key];
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = decodePointer(pointer);
  if (tokens.length === 0) throw unprocessable('json patch: cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, pointer, false), 1)[0];
  if (!Object.hasOwn(parent, key)) throw unprocessable(`json patch: path "${pointer}" does not exist`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function addAt(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = decodePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (replace) parent[arrayIndex(parent, key, pointer, false)] = value;
    else parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, key)) throw unprocessable(`json patch: path "${pointer}" does not exist`);
    parent[key] = value;
  }
  return doc;
}

/** kube-apiserver's limit on the operations of one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;
/**
 * The most bytes a JSON patch's `copy` operations may copy in all (kube-apiserver bounds the
 * same, AccumulatedCopySizeLimit): each copy may double the object, so 25 of them on a 1 KB
 * body would otherwise build gigabytes.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/** RFC 6902. A failed `test` or a missing path is a 422, as kube-apiserver answers. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json patch: the patch must be a JSON array of operations');
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw unprocessable(`json patch: the allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  let copied = 0;
  let doc: unknown = structuredClone(target);
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw badRequest(`json patch: invalid operation ${JSON.stringify(op)}`);
    const path = op.path;
    switch (op.op) {
      case 'add':
        if (!Object.hasOwn(op, 'value')) throw badRequest(`json patch: "add" at "${path}" has no value`);
        doc = addAt(doc, path, structuredClone(op.value), false);
        break;
      case 'replace':
        if (!Object.hasOwn(op, 'value')) throw badRequest(`json patch: "replace" at "${path}" has no value`);
        doc = addAt(doc, path, structuredClone(op.value), true);
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw badRequest(`json patch: "${op.op}" at "${path}" has no from`);
        let value: unknown;
        if (op.op === 'move') value = removeAt(doc, op.from);
        else {
          const source = getAt(doc, op.from);
          copied += JSON.stringify(source ?? null).length;
          if (copied > MAX_JSON_PATCH_COPY_BYTES) {
            throw unprocessable(`json patch: the copy operations copy more than ${MAX_JSON_PATCH_COPY_BYTES} bytes in all`);
          }
          value = structuredClone(source);
        }
        doc = addAt(doc, path, value, false);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path), op.value)) throw unprocessable(`the server rejected our request due to an error in our request: testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`json patch: unknown operation "${op.op}"`);
    }
  }
  return doc;
}

/**
 * Applies a PATCH body of the given content type to `current`.
 * @throws ApiError 415 for an unsupported type (strategic merge on a custom resource,
 *   server-side apply), 400 for a malformed body, 422 for a failed JSON patch operation.
 */
export function applyPatch(current: unknown, contentType: string, body: unknown, allowStrategic: boolean): unknown {
  switch (contentType) {
    case PATCH_TYPES.merge:
      if (!isObject(body)) throw badRequest('merge patch: the patch must be a JSON object');
      return mergePatch(current, body);
    case PATCH_TYPES.json:
      return jsonPatch(current, body);
    case PATCH_TYPES.strategic:
      if (!allowStrategic) throw unsupportedMediaType();
      if (!isObject(body)) throw badRequest('strategic merge patch: the patch must be a JSON object');
      return strategicMergePatch(current, body);
    default:
      throw unsupportedMediaType();
  }
}
