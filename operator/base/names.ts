// Kubernetes name rules (RFC 1123 labels and subdomains), worded as kube-apiserver words them,
// so that `meshpilot validate`, the operator and the embedded control plane refuse a name with
// the same message a real cluster gives.

export type NameFormat = 'dns-label' | 'dns-subdomain';

export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const RULES: Record<NameFormat, { pattern: RegExp; max: number; message: string }> = {
  'dns-label': {
    pattern: DNS1123_LABEL,
    max: 63,
    message:
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  },
  'dns-subdomain': {
    pattern: DNS1123_SUBDOMAIN,
    max: 253,
    message:
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  },
};

/** What is wrong with `name` in `format`, the length first; empty when it is valid. */
export function nameProblems(name: string, format: NameFormat): string[] {
  const rule = RULES[format];
  const problems: string[] = [];
  if (name.length > rule.max) problems.push(`must be no more than ${rule.max} characters`);
  if (!rule.pattern.test(name)) problems.push(rule.message);
  return problems;
}
