import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { intentFromStatus } from '../../../operator/routing/intent-from-status.ts';
import { intentFromSpec } from '../../../operator/routing/route-intent.ts';
import { exampleRoute } from '../controller/fake-cluster.ts';

function decided(route: AdaptiveRoute, status: Partial<NonNullable<AdaptiveRoute['status']>>, ready = 'True'): AdaptiveRoute {
  route.metadata.generation = 2;
  route.status = {
    observedGeneration: 2,
    conditions: [{ type: 'Ready', status: ready as 'True', reason: 'IntentPublished', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: 2 }],
    ...status,
  };
  return route;
}

describe('intentFromStatus', () => {
  it('serves the spec with the decision recorded in status', () => {
    const route = decided(exampleRoute(), {
      weights: [
        { region: 'eu-west', weight: 25 },
        { region: 'us-east', weight: 75 },
      ],
      retryAttempts: 1,
      perTryTimeout: '300ms',
      timeout: '2s',
    });
    const intent = intentFromStatus(route)!;
    expect(intent.destinations.map((d) => [d.region, d.weight])).toEqual([
      ['eu-west', 25],
      ['us-east', 75],
    ]);
    expect(intent.retries).toMatchObject({ attempts: 1, perTryTimeoutMs: 300 });
    expect(intent.timeoutMs).toBe(2000);
    expect({ ...intent, destinations: [], retries: null, timeoutMs: 0 }).toEqual({ ...intentFromSpec(route), destinations: [], retries: null, timeoutMs: 0 });
  });

  it('holds (undefined) until the leader has decided the current generation', () => {
    const route = decided(exampleRoute(), { weights: [{ region: 'eu-west', weight: 100 }, { region: 'us-east', weight: 0 }] });
    route.metadata.generation = 3;
    expect(intentFromStatus(route)).toBeUndefined();
  });

  it('holds when the leader rejected the spec or the status names other regions', () => {
    const weights = [{ region: 'eu-west', weight: 100 }, { region: 'us-east', weight: 0 }];
    expect(intentFromStatus(decided(exampleRoute(), { weights }, 'False'))).toBeUndefined();
    expect(intentFromStatus(decided(exampleRoute(), { weights: [{ region: 'eu-west', weight: 100 }] }))).toBeUndefined();
    expect(intentFromStatus(exampleRoute())).toBeUndefined();
  });
});
