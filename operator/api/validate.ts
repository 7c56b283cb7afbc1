// Validation of AdaptiveRoute and ContactPlan objects against the CRD schemas in crds/ (the
// only schema there is): the same pruning, defaulting and checks the apiserver applies, with
// unknown fields reported as issues (fieldValidation=Strict) rather than silently dropped.

import { defaultCrds, type CrdCatalog } from './crds.ts';
import { validateObjectMeta } from './object-meta.ts';
import { forbidden, notSupported, typeInvalid } from './schema/field-errors.ts';
import { deepCopy, isObject, jsonType } from './schema/json-value.ts';
import {
  applyDefaults,
  findUnknownFields,
  pruneUnknownFields,
  validateValue,
  type FieldIssue,
  type JSONSchemaProps,
} from './schema/validate.ts';
import { API_VERSION, GROUP, RESOURCES, VERSION, type AdaptiveRoute, type ContactPlan } from './types.ts';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

export interface ValidateOptions {
  /** The stored object on an update, so that transition rules (oldSelf) run. */
  old?: unknown;
  /** Where the schemas come from; the repository's crds/ by default. */
  crds?: CrdCatalog;
}

/** What the apiserver stores for `obj`: unknown fields pruned, defaults applied. */
function normalise(schema: JSONSchemaProps, obj: unknown): unknown {
  const copy = deepCopy(obj);
  pruneUnknownFields(schema, copy);
  applyDefaults(schema, copy);
  return copy;
}

function validateResource<T>(resource: { kind: string; plural: string }, obj: unknown, options: ValidateOptions): ValidationResult<T> {
  const schema = (options.crds ?? defaultCrds()).schema(GROUP, resource.plural, VERSION);
  if (!isObject(obj)) {
    return { ok: false, issues: [typeInvalid('', jsonType(obj), `${resource.kind} manifests must be objects`)] };
  }
  const issues: FieldIssue[] = [];
  if (obj.apiVersion !== API_VERSION) issues.push(notSupported('apiVersion', obj.apiVersion, [API_VERSION]));
  if (obj.kind !== resource.kind) issues.push(notSupported('kind', obj.kind, [resource.kind]));
  issues.push(...validateObjectMeta(obj.metadata));
  for (const path of findUnknownFields(schema, obj)) {
    issues.push(forbidden(path, 'field not declared in the schema'));
  }
  const value = normalise(schema, obj);
  const oldValue = options.old === undefined ? undefined : normalise(schema, options.old);
  issues.push(...validateValue(schema, value, oldValue === undefined ? {} : { oldValue }));
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: value as T };
}

/**
 * Validates `obj` as an AdaptiveRoute the way the apiserver would with
 * fieldValidation=Strict: apiVersion, kind and metadata name, unknown fields, then the
 * defaulted object against crds/adaptiveroute.yaml, including its CEL rules (transition
 * rules when `options.old` is given). On success `value` is a defaulted deep copy; `obj` is
 * never modified. Every issue names its field path. Throws ConfigError only when the CRD
 * itself cannot be loaded.
 */
export function validateAdaptiveRoute(obj: unknown, options: ValidateOptions = {}): ValidationResult<AdaptiveRoute> {
  return validateResource<AdaptiveRoute>(RESOURCES.adaptiveRoute, obj, options);
}

/** As validateAdaptiveRoute, for a ContactPlan against crds/contactplan.yaml. */
export function validateContactPlan(obj: unknown, options: ValidateOptions = {}): ValidationResult<ContactPlan> {
  return validateResource<ContactPlan>(RESOURCES.contactPlan, obj, options);
}
