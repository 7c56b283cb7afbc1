// The spec's priority groups (api/priority-groups.ts): what serves first and what waits.
import { describe, expect, it } from '@jest/globals';
import { failoverOrder, primaryGroupWeights, primaryPriority } from '../../../operator/api/priority-groups.ts';

describe('priority groups', () => {
  const destinations = [
    { region: 'a', weight: 0, priority: 0 },
    { region: 'b', weight: 30, priority: 1 },
    { region: 'c', weight: 0, priority: 2 },
    { region: 'd', weight: 70, priority: 1 },
  ];

  it('takes the lowest priority that carries weight as the primary group, and only its weights', () => {
    expect(primaryPriority(destinations)).toBe(1);
    expect(primaryGroupWeights(destinations)).toEqual([0, 30, 0, 70]);
  });

  it('has no primary group when nothing carries weight', () => {
    expect(primaryPriority([{ weight: 0, priority: 0 }])).toBeUndefined();
    expect(primaryGroupWeights([{ weight: 0, priority: 0 }])).toEqual([0]);
  });

  it('orders failover by priority, then spec order', () => {
    expect(failoverOrder(destinations).map((d) => d.region)).toEqual(['a', 'b', 'd', 'c']);
  });
});
