// The OpenAPI value checks kube-openapi's SchemaValidator makes on a custom resource (type,
// format, bounds, lengths, patterns, sizes, enum, required, composition), worded as the
// apiextensions-apiserver turns them into field errors. Also the apiVersion/kind checks the
// apiserver makes on embedded resources. Unknown fields are not this pass's business: the
// apiserver prunes them (see pruning.ts) before it validates.

import {
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
  goFloat,
  goQuote,
} from './field-errors.ts';
import { formatChecker } from './formats.ts';
import { re2 } from './re2.ts';
import { childPath, deepEqual, isObject, jsonType, type JsonObject } from './json-value.ts';
import type { FieldIssue, JSONSchemaProps } from './schema-types.ts';

interface Walk {
  /** The path the caller validates from: where composite (anyOf, ...) errors are reported. */
  rootPath: string;
  issues: FieldIssue[];
}

/**
 * Checks `value` against `schema` the way kube-openapi does. `isResourceRoot` says that the
 * value is a whole object, whose metadata the server validates itself. Never throws.
 */
export function validateOpenApi(schema: JSONSchemaProps, value: unknown, rootPath: string, isResourceRoot: boolean): FieldIssue[] {
  const walk: Walk = { rootPath, issues: [] };
  validateNode(schema, value, rootPath, isResourceRoot, walk);
  return walk.issues;
}

function allowedTypes(schema: JSONSchemaProps): string[] | undefined {
  if (schema['x-kubernetes-int-or-string']) return ['integer', 'string'];
  return schema.type ? [schema.type] : undefined;
}

function validateNode(s: JSONSchemaProps, v: unknown, path: string, isResourceRoot: boolean, walk: Walk): void {
  const out = walk.issues;
  const types = allowedTypes(s);
  if (v === null || v === undefined) {
    if (types && !s.nullable) {
      out.push(typeInvalid(path, 'null', `${path} in body must be of type ${types.join(',')}: "null"`));
    }
    return;
  }
  const actual = jsonType(v);
  if (types && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) {
    out.push(typeInvalid(path, actual, `${path} in body must be of type ${types.join(',')}: ${goQuote(actual)}`));
    return;
  }

  validateComposition(s, v, path, walk);

  if (typeof v === 'string') validateString(s, v, path, out);
  if (typeof v === 'number') validateNumber(s, v, path, out);
  if (Array.isArray(v)) {
    validateArray(s, v, path, out);
    if (s.items) v.forEach((item, i) => validateNode(s.items!, item, `${path}[${i}]`, false, walk));
  }
  if (s.enum && !s.enum.some((allowed) => deepEqual(allowed, v))) {
    out.push(notSupported(path, v, s.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (isObject(v)) validateObject(s, v, path, isResourceRoot, walk);
}

function validateString(s: JSONSchemaProps, v: string, path: string, out: FieldIssue[]): void {
  const length = [...v].length;
  if (s.maxLength !== undefined && length > s.maxLength) out.push(tooLong(path, s.maxLength));
  if (s.minLength !== undefined && length < s.minLength) {
    out.push(invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
  }
  if (s.pattern !== undefined) {
    const re = re2(s.pattern);
    if (re instanceof Error) {
      out.push(invalid(path, v, `${path} in body has a pattern that cannot be compiled: ${re.message}`));
    } else if (!re.test(v)) {
      out.push(invalid(path, v, `${path} in body should match '${s.pattern}'`));
    }
  }
  if (s.format !== undefined) {
    const check = formatChecker(s.format);
    if (check && !check(v)) out.push(typeInvalid(path, v, `${path} in body must be of type ${s.format}: ${goQuote(v)}`));
  }
}

function validateNumber(s: JSONSchemaProps, v: number, path: string, out: FieldIssue[]): void {
  if (s.multipleOf !== undefined && s.multipleOf > 0) {
    const q = v / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) {
      out.push(invalid(path, v, `${path} in body should be a multiple of ${goFloat(s.multipleOf)}`));
    }
  }
  if (s.maximum !== undefined) {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) {
      const words = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
      out.push(invalid(path, v, `${path} in body should be ${words} ${goFloat(s.maximum)}`));
    }
  }
  if (s.minimum !== undefined) {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) {
      const words = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      out.push(invalid(path, v, `${path} in body should be ${words} ${goFloat(s.minimum)}`));
    }
  }
}

function validateArray(s: JSONSchemaProps, v: unknown[], path: string, out: FieldIssue[]): void {
  if (s.minItems !== undefined && v.length < s.minItems) {
    out.push(invalid(path, v.length, `${path} in body should have at least ${s.minItems} items`));
  }
  if (s.maxItems !== undefined && v.length > s.maxItems) out.push(tooMany(path, v.length, s.maxItems));
  if (s.uniqueItems && v.some((x, i) => v.findIndex((y) => deepEqual(x, y)) !== i)) {
    out.push(invalid(path, v, `${path} in body shouldn't contain duplicates`));
  }
}

function validateObject(s: JSONSchemaProps, v: JsonObject, path: string, isResourceRoot: boolean, walk: Walk): void {
  const out = walk.issues;
  const size = Object.keys(v).length;
  if (s.maxProperties !== undefined && size > s.maxProperties) out.push(tooMany(path, size, s.maxProperties));
  if (s.minProperties !== undefined && size < s.minProperties) {
    out.push(invalid(path, size, `${path} in body should have at least ${s.minProperties} properties`));
  }
  for (const name of s.required ?? []) {
    if (!Object.hasOwn(v, name)) out.push(required(childPath(path, name)));
  }
  if (s['x-kubernetes-embedded-resource'] && !isResourceRoot) validateEmbeddedResource(v, path, out);
  const properties = s.properties ?? {};
  for (const [name, sub] of Object.entries(properties)) {
    if (Object.hasOwn(v, name)) validateNode(sub, v[name], childPath(path, name), false, walk);
  }
  const extra = s.additionalProperties;
  if (extra && typeof extra === 'object') {
    for (const [name, child] of Object.entries(v)) {
      if (!Object.hasOwn(properties, name)) {
        validateNode(extra, child, childPath(path, name), false, walk);
      }
    }
  }
}

/** apiextensions' schemaobjectmeta checks on an object marked x-kubernetes-embedded-resource. */
function validateEmbeddedResource(v: JsonObject, path: string, out: FieldIssue[]): void {
  for (const key of ['apiVersion', 'kind'] as const) {
    const field = childPath(path, key);
    if (!Object.hasOwn(v, key)) {
      out.push(required(field, 'must not be empty'));
    } else if (typeof v[key] !== 'string') {
      out.push(invalid(field, v[key], 'must be a string'));
    } else if (v[key] === '') {
      out.push(invalid(field, '', 'must not be empty'));
    } else if (key === 'apiVersion' && (v[key] as string).split('/').length > 2) {
      out.push(invalid(field, v[key], `unexpected GroupVersion string: ${v[key] as string}`));
    }
  }
  if (Object.hasOwn(v, 'metadata') && !isObject(v.metadata)) {
    out.push(invalid(childPath(path, 'metadata'), v.metadata, 'must be an object'));
  }
}

/** allOf, anyOf, oneOf and not: go-openapi reports these at the validated root. */
function validateComposition(s: JSONSchemaProps, v: unknown, path: string, walk: Walk): void {
  const trial = (sub: JSONSchemaProps) => validateOpenApi(sub, v, path, false);
  if (s.allOf?.length) {
    const results = s.allOf.map(trial);
    const valid = results.filter((r) => r.length === 0).length;
    for (const r of results) walk.issues.push(...r);
    if (valid !== s.allOf.length) {
      const none = valid === 0 ? '. None validated' : '';
      walk.issues.push(invalid(walk.rootPath, '', `${path} must validate all the schemas (allOf)${none}`));
    }
  }
  if (s.anyOf?.length) {
    const results = s.anyOf.map(trial);
    if (!results.some((r) => r.length === 0)) {
      walk.issues.push(invalid(walk.rootPath, '', `${path} must validate at least one schema (anyOf)`));
      walk.issues.push(...fewest(results));
    }
  }
  if (s.oneOf?.length) {
    const results = s.oneOf.map(trial);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== 1) {
      const detail = valid > 1 ? `${path} must validate one and only one schema (oneOf). Found ${valid} valid alternatives` : `${path} must validate one and only one schema (oneOf)`;
      walk.issues.push(invalid(walk.rootPath, '', detail));
      if (valid === 0) walk.issues.push(...fewest(results));
    }
  }
  if (s.not && trial(s.not).length === 0) {
    walk.issues.push(invalid(walk.rootPath, '', `${path} must not validate the schema (not)`));
  }
}

function fewest(results: FieldIssue[][]): FieldIssue[] {
  return results.reduce((best, r) => (r.length < best.length ? r : best));
}


