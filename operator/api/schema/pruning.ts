// Unknown fields, as the apiserver's structural pruning sees them: a field is unknown when no
// schema node declares it and no x-kubernetes-preserve-unknown-fields covers it. The server
// drops them on every write, and reports them for fieldValidation=Strict|Warn; pruning also
// drops nulls the schema neither allows nor defaults, as the same decoding step does.

import { isObject, type JsonObject } from './json-value.ts';
import type { JSONSchemaProps } from './schema-types.ts';

/** Fields the root of a resource always has, whatever its schema says. */
const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

interface PruneRun {
  mutate: boolean;
  found: string[];
}

/**
 * Paths of the fields `schema` does not declare, sorted, e.g. ["spec.destinations[0].bar",
 * "spec.foo"]. Map keys are joined with a dot, as the apiserver's warnings print them. With
 * no `rootPath` the value is a whole object: its apiVersion, kind and metadata are known (the
 * server checks metadata itself). Does not modify `value`; never throws.
 */
export function findUnknownFields(schema: JSONSchemaProps, value: unknown, rootPath = ''): string[] {
  const run: PruneRun = { mutate: false, found: [] };
  prune(rootPath === '' ? asResourceRoot(schema) : schema, value, rootPath, run);
  return run.found.sort();
}

/**
 * Removes, in place, every field `schema` does not declare, and every null the schema neither
 * allows (nullable) nor defaults. `value` is a whole object: its apiVersion, kind and
 * metadata are kept. Idempotent; never throws.
 */
export function pruneUnknownFields(schema: JSONSchemaProps, value: unknown): void {
  prune(asResourceRoot(schema), value, '', { mutate: true, found: [] });
  pruneNonNullableNulls(value, schema);
}

function asResourceRoot(schema: JSONSchemaProps): JSONSchemaProps {
  return schema['x-kubernetes-embedded-resource'] ? schema : { ...schema, 'x-kubernetes-embedded-resource': true };
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function prune(s: JSONSchemaProps | undefined, x: unknown, path: string, run: PruneRun): void {
  if (s?.['x-kubernetes-preserve-unknown-fields']) {
    skipPrune(s, x, path, run);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((item, i) => prune(s?.items, item, `${path}[${i}]`, run));
    return;
  }
  if (!isObject(x)) return;
  for (const key of Object.keys(x)) {
    const v = x[key];
    if (s?.['x-kubernetes-embedded-resource']) {
      if ((key === 'apiVersion' || key === 'kind') && typeof v === 'string') continue;
      if (key === 'metadata') continue;
    }
    const prop = s?.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
    if (prop) {
      prune(prop, v, join(path, key), run);
    } else if (s?.additionalProperties) {
      prune(typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined, v, join(path, key), run);
    } else {
      if (!META_FIELDS.has(key) || path !== '') run.found.push(join(path, key));
      if (run.mutate) delete x[key];
    }
  }
}

/** Under x-kubernetes-preserve-unknown-fields, only nodes that have a schema are pruned. */
function skipPrune(s: JSONSchemaProps, x: unknown, path: string, run: PruneRun): void {
  if (Array.isArray(x)) {
    const items = s.items;
    if (items) x.forEach((item, i) => skipPrune(items, item, `${path}[${i}]`, run));
    return;
  }
  if (!isObject(x)) return;
  for (const [key, v] of Object.entries(x)) {
    if (s['x-kubernetes-embedded-resource'] && META_FIELDS.has(key)) continue;
    const prop = s.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
    if (prop) prune(prop, v, join(path, key), run);
    else if (s.additionalProperties) {
      prune(typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined, v, join(path, key), run);
    }
  }
}

function fieldSchema(s: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  if (!s) return undefined;
  if (s.properties && Object.hasOwn(s.properties, key)) return s.properties[key];
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** structuraldefaulting.PruneNonNullableNullsWithoutDefaults. */
function pruneNonNullableNulls(x: unknown, s: JSONSchemaProps | undefined): void {
  if (Array.isArray(x)) {
    for (const item of x) pruneNonNullableNulls(item, s?.items);
  } else if (isObject(x)) {
    for (const key of Object.keys(x)) {
      const sub = fieldSchema(s, key);
      if (x[key] === null && sub && !sub.nullable && sub.default === undefined) delete (x as JsonObject)[key];
      else pruneNonNullableNulls(x[key], sub);
    }
  }
}
