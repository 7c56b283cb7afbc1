// Equality of JSON data (base/canonical-json.ts): what status writes and intent changes compare.
import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '../../../operator/base/canonical-json.ts';

describe('canonicalJson', () => {
  it('ignores key order and undefined members at any depth, and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: undefined } })).toBe(canonicalJson({ a: { d: [1, 2] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('keeps null members unless asked to drop them, as a merge patch stores nothing for them', () => {
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
    expect(canonicalJson({ a: null, b: { c: null } }, { dropNull: true })).toBe(canonicalJson({ b: {} }));
  });
});
