import { describe, expect, it } from '@jest/globals';
import { findCondition, isConditionTrue, setCondition } from '../../../operator/api/conditions.ts';
import type { Condition } from '../../../operator/api/types.ts';

const t0 = new Date('2025-06-01T10:00:00.123Z');
const t1 = new Date('2025-06-01T10:05:00Z');
const t2 = new Date('2025-06-01T10:10:00Z');

describe('setCondition', () => {
  it('adds a new condition stamped with the time, in whole seconds, and the generation', () => {
    const conditions = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'IntentServed', message: 'ok' }, 4, t0);
    expect(conditions).toEqual([
      { type: 'Ready', status: 'True', reason: 'IntentServed', message: 'ok', lastTransitionTime: '2025-06-01T10:00:00Z', observedGeneration: 4 },
    ]);
  });

  it('keeps lastTransitionTime while the status stays, updating reason, message and generation', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'SpecInvalid', message: 'bad weight' }, 1, t0);
    const second = setCondition(first, { type: 'Ready', status: 'False', reason: 'ReferenceNotFound', message: 'no plan' }, 2, t1);
    expect(second).toEqual([
      { type: 'Ready', status: 'False', reason: 'ReferenceNotFound', message: 'no plan', lastTransitionTime: '2025-06-01T10:00:00Z', observedGeneration: 2 },
    ]);
  });

  it('moves lastTransitionTime when the status flips, and only then', () => {
    let conditions = setCondition([], { type: 'Ready', status: 'False', reason: 'Pending', message: '' }, 1, t0);
    conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'IntentServed', message: '' }, 1, t1);
    expect(findCondition(conditions, 'Ready')?.lastTransitionTime).toBe('2025-06-01T10:05:00Z');
    conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'IntentServed', message: 'still' }, 2, t2);
    expect(findCondition(conditions, 'Ready')?.lastTransitionTime).toBe('2025-06-01T10:05:00Z');
    conditions = setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'TelemetryStale', message: '' }, 2, t2);
    expect(findCondition(conditions, 'Ready')?.lastTransitionTime).toBe('2025-06-01T10:10:00Z');
  });

  it('keys conditions by type, leaving the others and their order alone', () => {
    const valid: Condition = { type: 'Valid', status: 'True', reason: 'SpecValid', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const ready: Condition = { type: 'Ready', status: 'False', reason: 'Pending', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const before = [valid, ready];
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'IntentServed', message: '' }, undefined, t1);
    expect(after.map((c) => c.type)).toEqual(['Valid', 'Ready']);
    expect(after[0]).toBe(valid);
    expect(after[1]).toEqual({ type: 'Ready', status: 'True', reason: 'IntentServed', message: '', lastTransitionTime: '2025-06-01T10:05:00Z' });
    expect(before[1]).toBe(ready);
    expect(ready.status).toBe('False');
  });

  it('truncates a message longer than the API allows', () => {
    const [c] = setCondition([], { type: 'Ready', status: 'False', reason: 'SpecInvalid', message: 'x'.repeat(40000) }, 1, t0);
    expect(c?.message).toHaveLength(32768);
  });

  it('refuses a reason the API would refuse', () => {
    expect(() => setCondition([], { type: 'Ready', status: 'True', reason: 'not camel', message: '' }, 1, t0)).toThrow(RangeError);
    expect(() => setCondition([], { type: 'Ready', status: 'True', reason: '', message: '' }, 1, t0)).toThrow(RangeError);
    expect(() => setCondition([], { type: 'no spaces allowed', status: 'True', reason: 'Fine', message: '' }, 1, t0)).toThrow(RangeError);
  });
});

describe('isConditionTrue', () => {
  it('is true only for a present condition whose status is True', () => {
    const conditions = setCondition([], { type: 'Ready', status: 'True', reason: 'IntentServed', message: '' }, 1, t0);
    expect(isConditionTrue(conditions, 'Ready')).toBe(true);
    expect(isConditionTrue(conditions, 'Valid')).toBe(false);
    expect(isConditionTrue(undefined, 'Ready')).toBe(false);
    expect(isConditionTrue(setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'Stale', message: '' }, 1, t1), 'Ready')).toBe(false);
  });
});
