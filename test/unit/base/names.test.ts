// The Kubernetes name rules every room uses (base/names.ts), worded as kube-apiserver words them.
import { describe, expect, it } from '@jest/globals';
import { nameProblems } from '../../../operator/base/names.ts';
import { namespacedKey, namespaceOf, objectKey } from '../../../operator/base/object-key.ts';

describe('nameProblems', () => {
  it('accepts labels and subdomains as the API server does', () => {
    expect(nameProblems('web-1', 'dns-label')).toEqual([]);
    expect(nameProblems('a.b-c.d', 'dns-subdomain')).toEqual([]);
  });

  it('refuses a dot in a label, an upper-case letter and an edge hyphen, with the apiserver message', () => {
    for (const bad of ['a.b', 'Web', '-a', 'a-']) {
      const [problem] = nameProblems(bad, 'dns-label');
      expect(problem).toMatch(/^a lowercase RFC 1123 label must consist of/);
    }
    expect(nameProblems('a..b', 'dns-subdomain')[0]).toMatch(/^a lowercase RFC 1123 subdomain must consist of/);
  });

  it('says the length first, and the pattern too when both are wrong', () => {
    expect(nameProblems('a'.repeat(64), 'dns-label')).toEqual(['must be no more than 63 characters']);
    const both = nameProblems(`${'A'.repeat(254)}`, 'dns-subdomain');
    expect(both[0]).toBe('must be no more than 253 characters');
    expect(both).toHaveLength(2);
  });
});

describe('object keys', () => {
  it('keys namespaced objects by namespace/name and cluster-scoped ones by name', () => {
    expect(objectKey('ns', 'a')).toBe('ns/a');
    expect(objectKey(undefined, 'a')).toBe('a');
  });

  it('places a namespaced object without a namespace in "default"', () => {
    expect(namespaceOf({})).toBe('default');
    expect(namespacedKey({ name: 'r' })).toBe('default/r');
    expect(namespacedKey({ namespace: 'x', name: 'r' })).toBe('x/r');
  });
});
