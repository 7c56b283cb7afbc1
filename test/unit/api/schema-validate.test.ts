// The generic structural-schema validator, on small schemas: each behaviour the embedded API
// server relies on to accept or refuse objects as kube-apiserver would.

import { describe, expect, it } from '@jest/globals';
import {
  applyDefaults,
  findUnknownFields,
  formatIssue,
  pruneUnknownFields,
  validateValue,
  type JSONSchemaProps,
} from '../../../operator/api/schema/validate.ts';
import type { Editable } from './fixtures.ts';

function messages(schema: JSONSchemaProps, value: unknown, options?: Parameters<typeof validateValue>[2]): string[] {
  return validateValue(schema, value, options).map(formatIssue);
}

const object = (properties: Record<string, JSONSchemaProps>, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'object',
  properties,
  ...extra,
});

describe('validateValue: OpenAPI checks', () => {
  it('tells integer from number, and accepts an integer as a number', () => {
    const s = object({ i: { type: 'integer' }, n: { type: 'number' } });
    expect(messages(s, { i: 3, n: 3 })).toEqual([]);
    expect(messages(s, { i: 3.5, n: 'x' }, { rootPath: 'spec' })).toEqual([
      'spec.i: Invalid value: "number": spec.i in body must be of type integer: "number"',
      'spec.n: Invalid value: "string": spec.n in body must be of type number: "string"',
    ]);
  });

  it('refuses null unless the field is nullable', () => {
    const s = object({ a: { type: 'string' }, b: { type: 'string', nullable: true } });
    expect(messages(s, { a: null, b: null }, { rootPath: 'spec' })).toEqual([
      'spec.a: Invalid value: "null": spec.a in body must be of type string: "null"',
    ]);
  });

  it('accepts an integer or a string for x-kubernetes-int-or-string, nothing else', () => {
    const s = object({ port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } });
    expect(messages(s, { port: 80 })).toEqual([]);
    expect(messages(s, { port: 'http' })).toEqual([]);
    expect(messages(s, { port: true }, { rootPath: 'spec' })).toEqual([
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
    ]);
  });

  it('checks bounds, exclusive bounds and multiples, printing floats as Go does', () => {
    const s = object({
      a: { type: 'number', minimum: 0, exclusiveMinimum: true },
      b: { type: 'number', maximum: 1000000 },
      c: { type: 'integer', multipleOf: 5 },
    });
    expect(messages(s, { a: 0, b: 1000000.5, c: 7 }, { rootPath: 'x' })).toEqual([
      'x.a: Invalid value: 0: x.a in body should be greater than 0',
      'x.b: Invalid value: 1.0000005e+06: x.b in body should be less than or equal to 1e+06',
      'x.c: Invalid value: 7: x.c in body should be a multiple of 5',
    ]);
  });

  it('checks string lengths in characters, and patterns', () => {
    const s = object({ a: { type: 'string', minLength: 2, maxLength: 3, pattern: '^[a-zé]+$' } });
    expect(messages(s, { a: 'éé' })).toEqual([]);
    expect(validateValue(s, { a: 'abcd' }, { rootPath: 'x' })).toEqual([
      { type: 'FieldValueTooLong', field: 'x.a', message: 'Too long: may not be longer than 3' },
    ]);
    expect(messages(s, { a: 'A' }, { rootPath: 'x' })).toEqual([
      'x.a: Invalid value: "A": x.a in body should be at least 2 chars long',
      `x.a: Invalid value: "A": x.a in body should match '^[a-zé]+$'`,
    ]);
  });

  it('checks item and property counts', () => {
    const s = object({
      l: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string' } },
      m: { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { type: 'string' } },
    });
    expect(messages(s, { l: [], m: {} }, { rootPath: 'x' })).toEqual([
      'x.l: Invalid value: 0: x.l in body should have at least 1 items',
      'x.m: Invalid value: 0: x.m in body should have at least 1 properties',
    ]);
    expect(validateValue(s, { l: ['a', 'b', 'c'], m: { a: 'x', b: 'y' } }, { rootPath: 'x' }).map((i) => [i.type, formatIssue(i)])).toEqual([
      ['FieldValueTooMany', 'x.l: Too many: 3: must have at most 2 items'],
      ['FieldValueTooMany', 'x.m: Too many: 2: must have at most 1 items'],
    ]);
  });

  it('validates the values of a map (additionalProperties)', () => {
    const s = object({ labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } } });
    expect(messages(s, { labels: { a: 'ok', b: 7 } }, { rootPath: 'spec' })).toEqual([
      'spec.labels.b: Invalid value: "integer": spec.labels.b in body must be of type string: "integer"',
    ]);
  });

  it('checks the formats the apiserver supports and ignores the ones it strips', () => {
    const s = object({
      t: { type: 'string', format: 'date-time' },
      b: { type: 'string', format: 'byte' },
      i: { type: 'integer', format: 'int32' },
      u: { type: 'string', format: 'made-up' },
    });
    expect(messages(s, { t: '2025-01-31T23:59:59.5+02:00', b: 'aGk=', i: 2 ** 40, u: '?' })).toEqual([]);
    expect(messages(s, { t: '2025-02-30T00:00:00Z', b: 'not base64!' }, { rootPath: 'x' })).toEqual([
      'x.t: Invalid value: "2025-02-30T00:00:00Z": x.t in body must be of type date-time: "2025-02-30T00:00:00Z"',
      'x.b: Invalid value: "not base64!": x.b in body must be of type byte: "not base64!"',
    ]);
  });

  it('lists the supported enum values, JSON-encoding the non-strings', () => {
    const s = object({ n: { type: 'integer', enum: [1, 2] } });
    expect(messages(s, { n: 3 }, { rootPath: 'x' })).toEqual(['x.n: Unsupported value: 3: supported values: "1", "2"']);
  });

  it('reports required fields in the order the schema lists them', () => {
    const s = object({ a: { type: 'string' }, b: { type: 'string' } }, { required: ['b', 'a'] });
    expect(validateValue(s, {}, { rootPath: 'spec' })).toEqual([
      { type: 'FieldValueRequired', field: 'spec.b', message: 'Required value' },
      { type: 'FieldValueRequired', field: 'spec.a', message: 'Required value' },
    ]);
  });

  it('requires apiVersion and kind on an embedded resource, but not at the resource root', () => {
    const s = object({
      spec: object({
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      }),
    }, { 'x-kubernetes-embedded-resource': true });
    expect(messages(s, { spec: { template: { apiVersion: 'v1', kind: 'Pod' } } })).toEqual([]);
    expect(messages(s, { spec: { template: { kind: '' } } })).toEqual([
      'spec.template.apiVersion: Required value: must not be empty',
      'spec.template.kind: Invalid value: "": must not be empty',
    ]);
  });

  it('reports anyOf at the validated root, with the closest branch’s problems', () => {
    const s = object({ a: { type: 'string' }, b: { type: 'string' } }, { anyOf: [{ required: ['a'] }, { required: ['b'] }] });
    expect(messages(s, {})).toEqual(['<nil>: Invalid value: "":  must validate at least one schema (anyOf)', 'a: Required value']);
    expect(messages(s, { b: 'x' })).toEqual([]);
  });

  it('does not modify the value it validates', () => {
    const s = object({ a: { type: 'string', default: 'x' } });
    const v = {};
    validateValue(s, v);
    expect(v).toEqual({});
  });
});

describe('validateValue: list types', () => {
  it('reports only the second occurrence of a set item', () => {
    const s = object({ l: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } } });
    expect(messages(s, { l: ['a', 'b', 'a', 'a', 'b'] }, { rootPath: 'x' })).toEqual([
      'x.l[2]: Duplicate value: "a"',
      'x.l[4]: Duplicate value: "b"',
    ]);
  });

  it('compares composite keys of a map list, printing them as Go maps', () => {
    const s = object({
      ports: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port', 'protocol'],
        items: object({ port: { type: 'integer' }, protocol: { type: 'string' } }),
      },
    });
    const ports = [{ port: 80, protocol: 'TCP' }, { port: 80, protocol: 'UDP' }, { protocol: 'TCP', port: 80 }];
    expect(validateValue(s, { ports }, { rootPath: 'spec' })).toEqual([
      { type: 'FieldValueDuplicate', field: 'spec.ports[2]', message: 'Duplicate value: map[string]interface {}{"port":80, "protocol":"TCP"}' },
    ]);
  });

  it('allows any repetition in an atomic list', () => {
    const s = object({ l: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } } });
    expect(messages(s, { l: ['a', 'a'] })).toEqual([]);
  });
});

describe('validateValue: CEL rules', () => {
  const range = (rules: JSONSchemaProps['x-kubernetes-validations']): JSONSchemaProps =>
    object({ r: object({ min: { type: 'integer' }, max: { type: 'integer' } }, { 'x-kubernetes-validations': rules }) });

  it('reports a failed rule at the node, or at its fieldPath, with its message', () => {
    const s = range([
      { rule: 'self.min <= self.max', message: 'min must not exceed max', fieldPath: '.min' },
      { rule: 'self.max < 100' },
    ]);
    expect(messages(s, { r: { min: 5, max: 200 } }, { rootPath: 'spec' })).toEqual([
      'spec.r: Invalid value: "object": failed rule: self.max < 100',
    ]);
    expect(messages(s, { r: { min: 50, max: 20 } }, { rootPath: 'spec' })).toEqual([
      'spec.r.min: Invalid value: "object": min must not exceed max',
    ]);
  });

  it('words the issue after the rule’s reason', () => {
    const s = range([
      { rule: 'false', message: 'no', reason: 'FieldValueForbidden' },
      { rule: 'false', message: 'needed', reason: 'FieldValueRequired', fieldPath: '.min' },
      { rule: 'false', reason: 'FieldValueDuplicate' },
    ]);
    expect(validateValue(s, { r: {} }, { rootPath: 'spec' })).toEqual([
      { type: 'FieldValueForbidden', field: 'spec.r', message: 'Forbidden: no' },
      { type: 'FieldValueRequired', field: 'spec.r.min', message: 'Required value: needed' },
      { type: 'FieldValueDuplicate', field: 'spec.r', message: 'Duplicate value: "object"' },
    ]);
  });

  it('uses messageExpression, and falls back to message when it fails or is blank', () => {
    const s = range([
      { rule: 'self.min <= self.max', message: 'static', messageExpression: "'min ' + string(self.min) + ' > max ' + string(self.max)" },
      { rule: 'self.min <= self.max', message: 'static fallback', messageExpression: 'self.nothere' },
      { rule: 'self.min <= self.max', message: 'blank fallback', messageExpression: "' '" },
    ]);
    expect(messages(s, { r: { min: 9, max: 1 } }, { rootPath: 'x' })).toEqual([
      'x.r: Invalid value: "object": min 9 > max 1',
      'x.r: Invalid value: "object": static fallback',
      'x.r: Invalid value: "object": blank fallback',
    ]);
  });

  it('turns a rule that does not compile, or fails to evaluate, into an issue', () => {
    const s = range([{ rule: 'self.min <=' }, { rule: 'self.nothere > 1', message: 'needs nothere' }, { rule: '1 + 1' }]);
    const found = messages(s, { r: { min: 1, max: 2 } }, { rootPath: 'x' });
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^x\.r: Invalid value: "object": rule compile error: compilation failed: /);
    expect(found[1]).toMatch(/^x\.r: Invalid value: "object": .*nothere.* evaluating rule: needs nothere$/);
    expect(found[2]).toBe('x.r: Invalid value: "object": rule compile error: cel expression must evaluate to a bool, got int');
  });

  it('sees integers as int and numbers as double, so integer arithmetic works', () => {
    const s = object(
      { n: { type: 'integer' }, d: { type: 'number' } },
      { 'x-kubernetes-validations': [{ rule: 'self.n * 2 == 6 && self.d > 0.5 && type(self.d) == double' }] },
    );
    expect(messages(s, { n: 3, d: 1 })).toEqual([]);
  });

  it('sees date-time strings as timestamps', () => {
    const s = object(
      { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' } },
      { 'x-kubernetes-validations': [{ rule: 'self.end > self.start', message: 'end before start' }] },
    );
    expect(messages(s, { start: '2025-01-01T00:00:00Z', end: '2025-01-01T01:00:00+02:00' })).toEqual(['<nil>: Invalid value: "object": end before start']);
  });

  it('has the Kubernetes list and regex libraries', () => {
    const s = object(
      { l: { type: 'array', items: { type: 'integer' } }, s: { type: 'string' } },
      {
        'x-kubernetes-validations': [
          { rule: 'self.l.sum() == 6 && self.l.max() == 3 && self.l.min() == 1 && self.l.isSorted() && self.l.indexOf(2) == 1' },
          { rule: "self.s.find('[0-9]+') == '42' && self.s.findAll('[a-z]').size() == 2 && self.s.charAt(0) == 'a'" },
        ],
      },
    );
    expect(messages(s, { l: [1, 2, 3], s: 'ab42' })).toEqual([]);
  });

  it('escapes property names that are CEL keywords or contain dashes', () => {
    const s = object(
      { namespace: { type: 'string' }, 'max-size': { type: 'integer' } },
      { 'x-kubernetes-validations': [{ rule: "self.__namespace__ == 'prod' && self.max__dash__size > 1" }] },
    );
    expect(messages(s, { namespace: 'prod', 'max-size': 2 })).toEqual([]);
  });

  it('shows a rule at the resource root only metadata.name and metadata.generateName', () => {
    const s: JSONSchemaProps = {
      type: 'object',
      properties: { metadata: { type: 'object' }, spec: object({ a: { type: 'string' } }) },
      'x-kubernetes-validations': [{ rule: "self.metadata.name == self.spec.a && !has(self.metadata.labels)" }],
    };
    expect(messages(s, { metadata: { name: 'x', labels: { a: 'b' } }, spec: { a: 'x' } })).toEqual([]);
  });

  it('skips rules on null and absent values', () => {
    const s = object({ a: { type: 'string', nullable: true, 'x-kubernetes-validations': [{ rule: 'false' }] } });
    expect(messages(s, { a: null })).toEqual([]);
    expect(messages(s, {})).toEqual([]);
  });

  it('runs no rule while the object has a type, enum, required or size problem', () => {
    const s = object(
      { a: { type: 'string', enum: ['x'] }, b: { type: 'string', pattern: '^b$' } },
      { 'x-kubernetes-validations': [{ rule: 'false', message: 'rule ran' }] },
    );
    expect(messages(s, { a: 'y' }, { rootPath: 'spec' })).toEqual([
      'spec.a: Unsupported value: "y": supported values: "x"',
      '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ]);
    expect(messages(s, { b: 'c' }, { rootPath: 'spec' })).toEqual([
      `spec.b: Invalid value: "c": spec.b in body should match '^b$'`,
      'spec: Invalid value: "object": rule ran',
    ]);
  });
});

describe('validateValue: transition rules', () => {
  const items: JSONSchemaProps = object({
    items: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: object(
        { name: { type: 'string' }, size: { type: 'integer' } },
        { 'x-kubernetes-validations': [{ rule: 'self.size >= oldSelf.size', message: 'size may only grow' }] },
      ),
    },
  });

  it('run only on update, against the old item with the same key', () => {
    const old = { items: [{ name: 'a', size: 5 }, { name: 'b', size: 5 }] };
    expect(messages(items, { items: [{ name: 'b', size: 1 }] })).toEqual([]);
    expect(messages(items, { items: [{ name: 'b', size: 9 }, { name: 'a', size: 1 }, { name: 'c', size: 0 }] }, { oldValue: old })).toEqual([
      'items[1]: Invalid value: "object": size may only grow',
    ]);
  });

  it('see an optional oldSelf on create when optionalOldSelf is set', () => {
    const s = object({}, {
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-validations': [{ rule: '!oldSelf.hasValue()', message: 'may only be created', optionalOldSelf: true }],
    });
    expect(messages(s, {})).toEqual([]);
    expect(messages(s, {}, { oldValue: {} })).toEqual(['<nil>: Invalid value: "object": may only be created']);
  });
});

describe('findUnknownFields and pruneUnknownFields', () => {
  const schema: JSONSchemaProps = object({
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: object({
      list: { type: 'array', items: object({ a: { type: 'string' } }) },
      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { typed: object({ t: { type: 'string' } }) } },
      map: { type: 'object', additionalProperties: object({ v: { type: 'string' } }) },
      keep: { type: 'string', nullable: true },
      dropped: { type: 'string' },
      defaulted: { type: 'string', default: 'd' },
    }),
  });
  const value = () => ({
    apiVersion: 'v1',
    kind: 'K',
    metadata: { name: 'n', anything: 1 },
    spec: {
      list: [{ a: 'x', b: 'y' }],
      free: { whatever: { deep: 1 }, typed: { t: 'x', u: 'y' } },
      map: { k: { v: 'x', w: 'y' } },
      keep: null,
      dropped: null,
      defaulted: null,
      extra: 1,
    },
    status: {},
  });

  it('lists unknown fields, sorted, without touching the value', () => {
    const v = value();
    expect(findUnknownFields(schema, v)).toEqual(['spec.extra', 'spec.free.typed.u', 'spec.list[0].b', 'spec.map.k.w', 'status']);
    expect(v).toEqual(value());
    expect(findUnknownFields(schema.properties!.spec!, v.spec, 'spec')).toEqual(['spec.extra', 'spec.free.typed.u', 'spec.list[0].b', 'spec.map.k.w']);
  });

  it('prunes them, keeping metadata, preserved fields and allowed nulls, dropping other nulls', () => {
    const v = value();
    pruneUnknownFields(schema, v);
    expect(v).toEqual({
      apiVersion: 'v1',
      kind: 'K',
      metadata: { name: 'n', anything: 1 },
      spec: {
        list: [{ a: 'x' }],
        free: { whatever: { deep: 1 }, typed: { t: 'x' } },
        map: { k: { v: 'x' } },
        keep: null,
        defaulted: null,
      },
    });
    applyDefaults(schema, v);
    expect((v.spec as Record<string, unknown>).defaulted).toBe('d');
    expect(findUnknownFields(schema, v)).toEqual([]);
  });
});

describe('applyDefaults', () => {
  const schema: JSONSchemaProps = object({
    withDefault: object({ a: { type: 'integer', default: 1 }, inner: object({ b: { type: 'string', default: 'b' } }, { default: {} }) }, { default: {} }),
    withoutDefault: object({ c: { type: 'integer', default: 3 } }),
    list: { type: 'array', items: object({ d: { type: 'boolean', default: true } }) },
    map: { type: 'object', additionalProperties: object({ e: { type: 'integer', default: 5 } }) },
  });

  it('fills defaults only where the parent exists, recursively into defaulted parents', () => {
    const v: Record<string, unknown> = { list: [{}, { d: false }], map: { x: {} } };
    applyDefaults(schema, v);
    expect(v).toEqual({
      withDefault: { a: 1, inner: { b: 'b' } },
      list: [{ d: true }, { d: false }],
      map: { x: { e: 5 } },
    });
  });

  it('fills a present parent even when it has no default of its own', () => {
    const v: Record<string, unknown> = { withoutDefault: {} };
    applyDefaults(schema, v);
    expect(v.withoutDefault).toEqual({ c: 3 });
  });

  it('copies defaults, so that changing one object changes no other', () => {
    const a: Editable = {};
    const b: Editable = {};
    applyDefaults(schema, a);
    applyDefaults(schema, b);
    a.withDefault.inner.b = 'changed';
    expect(b.withDefault.inner.b).toBe('b');
    expect(schema.properties!.withDefault!.properties!.inner!.default).toEqual({});
  });
});
