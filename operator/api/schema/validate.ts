// Validation of a value against a Kubernetes structural schema (a CRD's openAPIV3Schema), the
// way kube-apiserver accepts or refuses a custom resource: OpenAPI value checks, then the
// list-type invariants, then the CEL rules, which the apiserver skips while the object has a
// type, required, enum or size problem. The embedded API server and the reconciler share it.
//
// What the apiserver does around validation lives next door and is re-exported here: pruning
// of unknown fields (pruning.ts) and defaulting (defaulting.ts). A server applies them in the
// apiserver's order: pruneUnknownFields, applyDefaults, then validateValue.

import { validateCel, hasCelRules } from './cel-validation.ts';
import { ROOT_FIELD, invalid } from './field-errors.ts';
import { validateListTypes } from './list-type.ts';
import { validateOpenApi } from './openapi-validation.ts';
import type { CauseType, FieldIssue, JSONSchemaProps } from './schema-types.ts';

export type { CauseType, FieldIssue, JSONSchemaProps, ValidationRule } from './schema-types.ts';
export { applyDefaults } from './defaulting.ts';
export { findUnknownFields, pruneUnknownFields } from './pruning.ts';

/** The issue kinds after which the apiserver does not run CEL rules (strategy.go's hasBlockingErr). */
const BLOCKING: ReadonlySet<CauseType> = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

export interface ValidateValueOptions {
  /**
   * The path `value` sits at, e.g. "spec". Absent or "" means `value` is a whole object, whose
   * metadata the server validates itself (only name and generateName reach CEL rules).
   */
  rootPath?: string;
  /** The stored value on an update: transition rules (those reading oldSelf) run only then. */
  oldValue?: unknown;
}

/**
 * Every problem the apiserver would report for `value` under `schema`, in its order and
 * wording. Does not prune or default (call pruneUnknownFields and applyDefaults first, as
 * the apiserver does) and does not report unknown fields (see findUnknownFields). Does not
 * modify `value`. Never throws: a CEL rule that fails to compile or evaluate is an issue.
 */
export function validateValue(schema: JSONSchemaProps, value: unknown, options: ValidateValueOptions = {}): FieldIssue[] {
  const rootPath = options.rootPath ?? '';
  const isResourceRoot = rootPath === '';
  const issues = validateOpenApi(schema, value, rootPath, isResourceRoot);
  issues.push(...validateListTypes(schema, value, rootPath));
  if (hasCelRules(schema)) {
    if (issues.some((i) => BLOCKING.has(i.type))) {
      issues.push(
        invalid(
          '',
          null,
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
        ),
      );
    } else {
      issues.push(...validateCel(schema, value, options.oldValue, rootPath, isResourceRoot));
    }
  }
  return issues;
}

/** The issue as kubectl prints a cause: `${field}: ${message}`. */
export function formatIssue(issue: FieldIssue): string {
  return `${issue.field}: ${issue.message}`;
}

export { ROOT_FIELD };
