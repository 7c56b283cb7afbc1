// ObjectMeta rules every kind shares: which fields exist, name formats (RFC 1123 subdomain
// or label), label and annotation validity, and the messages kube-apiserver gives for them.
import { randomBytes } from 'node:crypto';
import { DNS1123_SUBDOMAIN, nameProblems as baseNameProblems, type NameFormat } from '../base/names.ts';
import { isObject } from '../base/plain-value.ts';
import type { StoredMeta } from './kube-object.ts';
import type { StatusCause } from './status.ts';

/** ObjectMeta's fields; anything else a client sends in metadata is dropped, as decoding into ObjectMeta does. */
export const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ANNOTATIONS_LIMIT = 256 * 1024;

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

/** The first problem with a name in the given format, as kube-apiserver reports it; empty when valid. */
export function nameProblems(name: string, format: NameFormat, field = 'metadata.name'): StatusCause[] {
  return baseNameProblems(name, format)
    .slice(0, 1)
    .map((problem) => invalid(field, name, problem));
}

function qualifiedNameProblems(key: string, field: string): StatusCause[] {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const ok = (slash < 0 || (prefix !== '' && prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix))) && name.length <= 63 && QUALIFIED_NAME.test(name);
  return ok
    ? []
    : [invalid(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")];
}

/** Validates labels, annotations and finalizers; causes name their field. */
export function metaProblems(meta: StoredMeta): StatusCause[] {
  const causes: StatusCause[] = [];
  if (meta.labels !== undefined) {
    if (!isObject(meta.labels)) causes.push(invalid('metadata.labels', meta.labels, 'must be a map of strings'));
    else
      for (const [k, v] of Object.entries(meta.labels)) {
        causes.push(...qualifiedNameProblems(k, 'metadata.labels'));
        if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
          causes.push(
            invalid(
              'metadata.labels',
              v,
              "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ),
          );
        }
      }
  }
  if (meta.annotations !== undefined) {
    if (!isObject(meta.annotations)) causes.push(invalid('metadata.annotations', meta.annotations, 'must be a map of strings'));
    else {
      let size = 0;
      for (const [k, v] of Object.entries(meta.annotations)) {
        causes.push(...qualifiedNameProblems(k.toLowerCase(), 'metadata.annotations'));
        if (typeof v !== 'string') causes.push(invalid(`metadata.annotations`, v, 'must be a string'));
        size += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
      }
      if (size > ANNOTATIONS_LIMIT) causes.push({ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: `Too long: must have at most ${ANNOTATIONS_LIMIT} bytes` });
    }
  }
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) causes.push(invalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
    else meta.finalizers.forEach((f, i) => causes.push(...(typeof f === 'string' ? qualifiedNameProblems(f, `metadata.finalizers[${i}]`) : [invalid(`metadata.finalizers[${i}]`, f, 'must be a string')])));
  }
  return causes;
}

const STRING_FIELDS = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'selfLink', 'creationTimestamp', 'deletionTimestamp'] as const;
const OWNER_STRING_FIELDS = ['apiVersion', 'kind', 'name', 'uid'] as const;

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * What decoding `metadata` into ObjectMeta would refuse (a field of the wrong JSON type), as
 * `metadata.<field>: must be …, got …`; undefined when every field it has is of its type.
 * kube-apiserver refuses these with 400 before anything is stored.
 */
export function metaTypeProblem(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) return `metadata: must be an object, got ${typeName(raw)}`;
  for (const f of STRING_FIELDS) {
    const v = raw[f];
    if (v !== undefined && v !== null && typeof v !== 'string') return `metadata.${f}: must be a string, got ${typeName(v)}`;
  }
  for (const f of ['generation', 'deletionGracePeriodSeconds'] as const) {
    const v = raw[f];
    if (v !== undefined && v !== null && !Number.isSafeInteger(v)) return `metadata.${f}: must be an integer, got ${typeName(v)}`;
  }
  for (const f of ['labels', 'annotations'] as const) {
    const v = raw[f];
    if (v !== undefined && v !== null && !isObject(v)) return `metadata.${f}: must be a map of strings, got ${typeName(v)}`;
  }
  const finalizers = raw.finalizers;
  if (finalizers !== undefined && finalizers !== null) {
    if (!Array.isArray(finalizers)) return `metadata.finalizers: must be a list of strings, got ${typeName(finalizers)}`;
    const bad = finalizers.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) return `metadata.finalizers[${bad}]: must be a string, got ${typeName(finalizers[bad])}`;
  }
  const owners = raw.ownerReferences;
  if (owners !== undefined && owners !== null) {
    if (!Array.isArray(owners)) return `metadata.ownerReferences: must be a list of owner references, got ${typeName(owners)}`;
    for (const [i, o] of owners.entries()) {
      if (!isObject(o)) return `metadata.ownerReferences[${i}]: must be an object {apiVersion, kind, name, uid}, got ${typeName(o)}`;
      for (const f of OWNER_STRING_FIELDS) if (typeof o[f] !== 'string' || o[f] === '') return `metadata.ownerReferences[${i}].${f}: must be a non-empty string, got ${typeName(o[f])}`;
      for (const f of ['controller', 'blockOwnerDeletion'] as const) if (o[f] !== undefined && typeof o[f] !== 'boolean') return `metadata.ownerReferences[${i}].${f}: must be true or false, got ${typeName(o[f])}`;
    }
  }
  if (raw.managedFields !== undefined && raw.managedFields !== null && !Array.isArray(raw.managedFields)) return `metadata.managedFields: must be a list, got ${typeName(raw.managedFields)}`;
  return undefined;
}

/** Keeps only ObjectMeta's fields of whatever the client sent as metadata. */
export function sanitizeMeta(raw: unknown): StoredMeta {
  const meta: StoredMeta = {};
  if (!isObject(raw)) return meta;
  for (const [k, v] of Object.entries(raw)) if (OBJECT_META_FIELDS.has(k) && v !== null) meta[k] = v;
  return meta;
}

/** `generateName` plus five random characters from kube's alphabet (no vowels, no look-alikes). */
export function generateName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  let suffix = '';
  for (const b of bytes) suffix += alphabet[b % alphabet.length];
  return `${prefix}${suffix}`;
}
