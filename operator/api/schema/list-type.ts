// The x-kubernetes-list-type invariants the apiserver checks after the OpenAPI pass: items of
// a "set" are unique, and so are the keys of a "map" list. Only the second occurrence of a
// value is reported, as structurallisttype does.

import { duplicate, invalid } from './field-errors.ts';
import { childPath, indexPath, isObject, keyPath } from './json-value.ts';
import type { FieldIssue, JSONSchemaProps } from './schema-types.ts';

/** Duplicate items of sets and duplicate keys of map lists anywhere under `value`. Never throws. */
export function validateListTypes(schema: JSONSchemaProps, value: unknown, path: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  walk(schema, value, path, out);
  return out;
}

function walk(s: JSONSchemaProps, v: unknown, path: string, out: FieldIssue[]): void {
  if (Array.isArray(v)) {
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set') {
      for (const i of secondOccurrences(v)) out.push(duplicate(indexPath(path, i), v[i]));
    } else if (listType === 'map') {
      out.push(...validateListMap(v, s['x-kubernetes-list-map-keys'] ?? [], path));
    }
    if (s.items) v.forEach((item, i) => walk(s.items!, item, indexPath(path, i), out));
  } else if (isObject(v)) {
    const extra = s.additionalProperties;
    if (extra && typeof extra === 'object') {
      for (const [k, child] of Object.entries(v)) walk(extra, child, keyPath(path, k), out);
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (Object.hasOwn(v, k)) walk(sub, v[k], childPath(path, k), out);
    }
  }
}

/** Distinguishes a missing key from one whose value is null, as Go's unspecifiedKeyValue does. */
const UNSPECIFIED = '\u0000unspecified';

/** A canonical text of a value: Go's json.Marshal sorts map keys, so equal maps compare equal. */
function identity(x: unknown): string {
  if (x === UNSPECIFIED) return x;
  if (Array.isArray(x)) return `[${x.map(identity).join(',')}]`;
  if (isObject(x)) {
    return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${identity(x[k])}`).join(',')}}`;
  }
  return typeof x === 'bigint' ? x.toString() : (JSON.stringify(x) ?? 'null');
}

function secondOccurrences(values: unknown[]): number[] {
  const seen = new Map<string, number>();
  const result: number[] = [];
  values.forEach((x, i) => {
    const id = identity(x);
    const times = seen.get(id) ?? 0;
    if (times === 1) result.push(i);
    seen.set(id, times + 1);
  });
  return result;
}

function validateListMap(items: unknown[], keyFields: string[], path: string): FieldIssue[] {
  for (const [i, x] of items.entries()) {
    if (x !== null && x !== undefined && !isObject(x)) {
      return [invalid(indexPath(path, i), x, 'must be an object for an array of list-type map')];
    }
  }
  if (items.length <= 1) return [];
  if (keyFields.length === 1) {
    const field = keyFields[0]!;
    const keys = items.map((x) => (isObject(x) && Object.hasOwn(x, field) ? x[field] : UNSPECIFIED));
    return secondOccurrences(keys).map((i) =>
      duplicate(indexPath(path, i), keys[i] === UNSPECIFIED ? {} : { [field]: keys[i] }),
    );
  }
  const keys = items.map((x) => {
    const key: Record<string, unknown> = {};
    if (isObject(x)) for (const f of keyFields) if (Object.hasOwn(x, f)) key[f] = x[f];
    return key;
  });
  return secondOccurrences(keys).map((i) => duplicate(indexPath(path, i), keys[i]));
}
