// The metadata checks the apiserver makes on every object it stores (name and namespace
// format), worded as it words them. CRD schemas cannot express these: the server applies
// them itself, and so does operator/api when it validates a manifest.

import { invalid, required } from './schema/field-errors.ts';
import type { FieldIssue } from './schema/validate.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const SUBDOMAIN_ERROR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_ERROR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/**
 * Problems with `metadata`'s name and namespace: the name is required (unless generateName
 * is set) and must be a DNS-1123 subdomain; a namespace, when set, a DNS-1123 label. Never throws.
 */
export function validateObjectMeta(metadata: unknown): FieldIssue[] {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return [required('metadata', 'metadata is required')];
  }
  const meta = metadata as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  const name = meta.name;
  if (name === undefined || name === '') {
    if (typeof meta.generateName !== 'string' || meta.generateName === '') {
      issues.push(required('metadata.name', 'name or generateName is required'));
    }
  } else if (typeof name !== 'string') {
    issues.push(invalid('metadata.name', name, 'must be a string'));
  } else {
    if (name.length > 253) issues.push(invalid('metadata.name', name, 'must be no more than 253 characters'));
    if (!DNS1123_SUBDOMAIN.test(name)) issues.push(invalid('metadata.name', name, SUBDOMAIN_ERROR));
  }
  const namespace = meta.namespace;
  if (namespace !== undefined && namespace !== '') {
    if (typeof namespace !== 'string') {
      issues.push(invalid('metadata.namespace', namespace, 'must be a string'));
    } else {
      if (namespace.length > 63) issues.push(invalid('metadata.namespace', namespace, 'must be no more than 63 characters'));
      if (!DNS1123_LABEL.test(namespace)) issues.push(invalid('metadata.namespace', namespace, LABEL_ERROR));
    }
  }
  return issues;
}
