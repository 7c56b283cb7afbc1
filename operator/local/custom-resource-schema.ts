// Schema handling of custom resources, in kube-apiserver's order: while decoding, unknown
// fields are reported (per `fieldValidation`), pruned and defaults applied; after the write
// rules ran, the object is validated against the CRD's schema, CEL rules included. The
// schema functions come from operator/api (one validator for the whole project); this
// module only maps their results onto HTTP semantics. The validator treats the object's
// apiVersion, kind and metadata as the server's business (metadata is checked in
// object-meta.ts); CEL rules still see metadata.name.
import { applyDefaults, findUnknownFields, pruneUnknownFields, validateValue } from '../api/schema/validate.ts';
import type { KubeObject } from './kube-object.ts';
import type { ResourceType } from './resource-registry.ts';
import { badRequest } from './status.ts';
import type { StatusCause } from './status.ts';

export const FIELD_VALIDATION = ['Strict', 'Warn', 'Ignore'] as const;
export type FieldValidation = (typeof FIELD_VALIDATION)[number];

/**
 * Reports, prunes and defaults as decoding does; mutates `object`. Returns warnings (for
 * `Warn`) to send as `Warning` headers.
 * @throws ApiError 400 listing the unknown fields when `fieldValidation` is Strict.
 */
export function decodeCustomResource(type: ResourceType, version: string, object: KubeObject, fieldValidation: FieldValidation): string[] {
  const schema = type.schema?.(version);
  if (!schema) return [];
  const unknown = fieldValidation === 'Ignore' ? [] : findUnknownFields(schema, object);
  if (fieldValidation === 'Strict' && unknown.length > 0) {
    throw badRequest(`${type.kind} in version "${version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  pruneUnknownFields(schema, object);
  applyDefaults(schema, object);
  return unknown.map((f) => `unknown field "${f}"`);
}

/** Validates against the version's schema (types, bounds, CEL, list-map keys); causes name their field. */
export function validateCustomResource(type: ResourceType, version: string, object: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const schema = type.schema?.(version);
  if (!schema) return [];
  return validateValue(schema, object, old ? { oldValue: old } : {}).map((i) => ({ reason: i.type, message: i.message, field: i.field }));
}
