// The metadata checks the apiserver makes on every object it stores (name and namespace
// format), worded as it words them. CRD schemas cannot express these: the server applies
// them itself, and so does operator/api when it validates a manifest.

import { nameProblems } from '../base/names.ts';
import { invalid, required } from './schema/field-errors.ts';
import type { FieldIssue } from './schema/validate.ts';

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
    for (const problem of nameProblems(name, 'dns-subdomain')) issues.push(invalid('metadata.name', name, problem));
  }
  const namespace = meta.namespace;
  if (namespace !== undefined && namespace !== '') {
    if (typeof namespace !== 'string') {
      issues.push(invalid('metadata.namespace', namespace, 'must be a string'));
    } else {
      for (const problem of nameProblems(namespace, 'dns-label')) issues.push(invalid('metadata.namespace', namespace, problem));
    }
  }
  return issues;
}
