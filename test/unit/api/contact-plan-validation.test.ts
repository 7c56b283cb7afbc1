import { describe, expect, it } from '@jest/globals';
import { formatIssue, type FieldIssue } from '../../../operator/api/schema/validate.ts';
import { validateContactPlan } from '../../../operator/api/validate.ts';
import { copy, type Editable, minimalPlan } from './fixtures.ts';

function issuesOf(obj: unknown): FieldIssue[] {
  const result = validateContactPlan(obj);
  return result.ok ? [] : result.issues;
}

function plan(edit: (spec: Editable) => void): Editable {
  const p = copy(minimalPlan());
  edit(p.spec);
  return p;
}

describe('validateContactPlan', () => {
  it('accepts a valid plan', () => {
    expect(issuesOf(minimalPlan())).toEqual([]);
  });

  it('refuses a contact whose end is not after its start', () => {
    for (const end of [30, 10]) {
      expect(issuesOf(plan((s) => (s.contacts[0] = { ...s.contacts[0], start: 30, end })))).toEqual([
        { type: 'FieldValueInvalid', field: 'spec.contacts[0].end', message: 'Invalid value: "object": end must be greater than start' },
      ]);
    }
    expect(issuesOf(plan((s) => (s.contacts[0] = { ...s.contacts[0], start: 30, end: 30.5 })))).toEqual([]);
  });

  it('refuses a contact to a node that is not declared, naming the node', () => {
    expect(issuesOf(plan((s) => (s.contacts[0].to = 'ghost')))).toEqual([
      { type: 'FieldValueInvalid', field: 'spec.contacts', message: 'Invalid value: "object": contacts go to undeclared nodes: ghost' },
    ]);
    expect(issuesOf(plan((s) => (s.contacts[0].from = 'nobody'))).map(formatIssue)).toEqual([
      'spec.contacts: Invalid value: "object": contacts come from undeclared nodes: nobody',
    ]);
  });

  it('refuses a contact from a node to itself', () => {
    expect(issuesOf(plan((s) => (s.contacts[0].to = 'a'))).map(formatIssue)).toEqual([
      'spec.contacts[0].to: Invalid value: "object": from and to must name different nodes',
    ]);
  });

  it('refuses duplicate node names', () => {
    expect(issuesOf(plan((s) => s.nodes.push({ name: 'a' }))).map(formatIssue)).toEqual([
      'spec.nodes[2]: Duplicate value: map[string]interface {}{"name":"a"}',
    ]);
  });

  it('refuses two nodes for one region', () => {
    const p = plan((s) => (s.nodes = [{ name: 'a', region: 'eu' }, { name: 'b', region: 'eu' }]));
    expect(issuesOf(p).map(formatIssue)).toEqual(['spec.nodes: Invalid value: "object": a region may be represented by one node at most']);
  });

  it('refuses an epoch that is not an RFC 3339 time', () => {
    expect(issuesOf(plan((s) => (s.epoch = 'yesterday')))).toEqual([
      {
        type: 'FieldValueTypeInvalid',
        field: 'spec.epoch',
        message: 'Invalid value: "yesterday": spec.epoch in body must be of type date-time: "yesterday"',
      },
      expect.objectContaining({ field: '<nil>' }),
    ]);
  });

  it('refuses a confidence above 1 and a zero data rate', () => {
    expect(issuesOf(plan((s) => Object.assign(s.contacts[0], { confidence: 1.5, rateBitsPerSecond: 0 }))).map(formatIssue)).toEqual([
      'spec.contacts[0].rateBitsPerSecond: Invalid value: 0: spec.contacts[0].rateBitsPerSecond in body should be greater than 0',
      'spec.contacts[0].confidence: Invalid value: 1.5: spec.contacts[0].confidence in body should be less than or equal to 1',
    ]);
  });

  it('refuses a plan with a single node', () => {
    expect(issuesOf(plan((s) => (s.nodes = [{ name: 'a' }]))).map(formatIssue)).toEqual([
      'spec.nodes: Invalid value: 1: spec.nodes in body should have at least 2 items',
      'spec.contacts: Invalid value: "object": contacts go to undeclared nodes: b',
    ]);
  });
});
