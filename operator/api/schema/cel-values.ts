// How a decoded JSON value looks to a CEL rule, following the apiserver's UnstructuredToVal:
// integers are int (BigInt), numbers are double even when integral, date-time and date
// strings are timestamps, byte strings are bytes. Objects expose only the properties their
// schema declares, under CEL-escaped names ("namespace" -> "__namespace__", "a-b" ->
// "a__dash__b"); at a resource root, metadata exposes only name and generateName.
// The evaluator recognises values by their constructor, so every array and object is built
// afresh here (Array.from, Object.fromEntries): input decoded elsewhere, e.g. by
// structuredClone, may come from another realm.

import { isObject, type JsonObject } from './json-value.ts';
import type { JSONSchemaProps } from './schema-types.ts';

const RESERVED = new Set([
  'true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function',
  'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while',
]);

/** The CEL name of a property, or undefined when CEL cannot address it. */
export function escapePropertyName(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name)) return undefined;
  if (RESERVED.has(name)) return `__${name}__`;
  let ok = true;
  const escaped = name.replace(/__|[-./]|[^a-zA-Z0-9_]/g, (m) => {
    switch (m) {
      case '__': return '__underscores__';
      case '.': return '__dot__';
      case '-': return '__dash__';
      case '/': return '__slash__';
      default:
        ok = false;
        return '';
    }
  });
  return ok ? escaped : undefined;
}

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function stringValue(text: string, format: string | undefined): unknown {
  switch (format?.replaceAll('-', '')) {
    case 'datetime':
    case 'date': {
      const t = new Date(text);
      return Number.isNaN(t.getTime()) ? text : t;
    }
    case 'byte':
      return decodeBase64(text);
    default:
      return text;
  }
}

/** A value without schema (int-or-string, preserved fields): numbers by their look. */
function untyped(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return Array.from(value, untyped);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untyped(v)]));
  return value;
}

/**
 * Converts `value`, which `schema` describes, to what CEL sees. `isResourceRoot` marks the
 * root of a resource or of an x-kubernetes-embedded-resource.
 */
export function toCelValue(value: unknown, schema: JSONSchemaProps | undefined, isResourceRoot = false): unknown {
  if (value === null || value === undefined) return null;
  if (!schema) return untyped(value);
  switch (schema.type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
    case 'number':
      return value;
    case 'string':
      return typeof value === 'string' ? stringValue(value, schema.format) : value;
    case 'boolean':
      return value;
    case 'array': {
      if (!Array.isArray(value)) return value;
      return Array.from(value, (item) => toCelValue(item, schema.items, !!schema.items?.['x-kubernetes-embedded-resource']));
    }
    case 'object':
      return isObject(value) ? objectValue(value, schema, isResourceRoot) : value;
    default:
      return untyped(value);
  }
}

function objectValue(value: JsonObject, schema: JSONSchemaProps, isResourceRoot: boolean): Record<string, unknown> {
  const extra = schema.additionalProperties;
  if (!schema.properties && extra !== undefined) {
    const itemSchema = typeof extra === 'object' ? extra : undefined;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCelValue(v, itemSchema, !!itemSchema?.['x-kubernetes-embedded-resource'])]));
  }
  const entries: [string, unknown][] = [];
  if (isResourceRoot || schema['x-kubernetes-embedded-resource']) {
    for (const key of ['apiVersion', 'kind'] as const) {
      if (typeof value[key] === 'string') entries.push([key, value[key]]);
    }
    if (isObject(value.metadata)) {
      const meta: [string, unknown][] = [];
      for (const key of ['name', 'generateName'] as const) {
        if (typeof value.metadata[key] === 'string') meta.push([key, value.metadata[key]]);
      }
      entries.push(['metadata', Object.fromEntries(meta)]);
    }
  }
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    if (!Object.hasOwn(value, name)) continue;
    if ((isResourceRoot || schema['x-kubernetes-embedded-resource']) && ['apiVersion', 'kind', 'metadata'].includes(name)) continue;
    const escaped = escapePropertyName(name);
    if (escaped !== undefined) entries.push([escaped, toCelValue(value[name], sub, !!sub['x-kubernetes-embedded-resource'])]);
  }
  return Object.fromEntries(entries);
}
