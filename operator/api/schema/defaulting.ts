// Structural defaulting as the apiserver applies it when it decodes a custom resource: a
// default fills a missing field (or a null the schema does not allow) only where the parent
// object exists, and the filled value is itself defaulted in turn.

import { deepCopy, isObject } from './json-value.ts';
import type { JSONSchemaProps } from './schema-types.ts';

function isNonNullableNull(v: unknown, s: JSONSchemaProps | undefined): s is JSONSchemaProps {
  return v === null && s !== undefined && !s.nullable && s.default !== undefined;
}

/**
 * Applies `schema`'s defaults to `value` in place, recursively. Defaults are deep-copied, so
 * the schema is never shared with the value. Idempotent; never throws.
 */
export function applyDefaults(schema: JSONSchemaProps, value: unknown): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (!items) return;
    value.forEach((item, i) => {
      if (isNonNullableNull(item, items)) value[i] = deepCopy(items.default);
      applyDefaults(items, value[i]);
    });
    return;
  }
  if (!isObject(value)) return;
  const properties = schema.properties ?? {};
  for (const [key, prop] of Object.entries(properties)) {
    if (prop.default === undefined) continue;
    if (!Object.hasOwn(value, key) || isNonNullableNull(value[key], prop)) value[key] = deepCopy(prop.default);
  }
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  for (const key of Object.keys(value)) {
    const prop = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (prop) {
      applyDefaults(prop, value[key]);
    } else if (extra) {
      if (isNonNullableNull(value[key], extra)) value[key] = deepCopy(extra.default);
      applyDefaults(extra, value[key]);
    }
  }
}
