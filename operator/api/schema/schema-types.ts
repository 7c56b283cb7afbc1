// The shapes the schema validator works with: the apiextensions.k8s.io/v1 JSONSchemaProps
// subset that structural CRD schemas use, and the field issues it reports (StatusCause's).

/** One x-kubernetes-validations entry. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** A JSON path relative to the node carrying the rule, e.g. ".spec.min" or ".labels['a']". */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Evaluate a transition rule on create too, with oldSelf as an optional. */
  optionalOldSelf?: boolean;
}

/** A structural OpenAPI v3 schema node, as a CustomResourceDefinition carries it. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  title?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'granular' | 'atomic';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** The StatusCause reasons this validator produces (k8s.io/apimachinery field.ErrorType). */
export type CauseType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueForbidden';

/** One problem, in the shape of a Kubernetes StatusCause. */
export interface FieldIssue {
  type: CauseType;
  /** e.g. "spec.destinations[1].weight"; "<nil>" for the root, as the apiserver prints it. */
  field: string;
  /** Kubernetes-style detail, e.g. 'Invalid value: 20000: spec.destinations[1].weight in body should be less than or equal to 10000'. */
  message: string;
}
