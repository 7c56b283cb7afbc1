import { describe, expect, it } from '@jest/globals';
import { prng } from '../../../operator/base/random.ts';
import { FAILING_ERROR_RATE } from '../../../operator/policy/eligibility.ts';
import { guard } from '../../../operator/policy/guard.ts';
import { GUARD_RULES } from '../../../operator/policy/guard-rules.ts';
import { guardSpecFrom } from '../../../operator/policy/guard-spec.ts';
import { ROLLBACK_HOLD_DECISIONS } from '../../../operator/policy/rollback.ts';
import { parseGuardState, type GuardState } from '../../../operator/policy/guard-state.ts';
import { CALM_HEADROOM, CALM_SATURATION } from '../../../operator/policy/return-to-spec.ts';
import type { RegionObservation } from '../../../operator/policy/features.ts';
import { largestRemainder } from '../../../operator/base/percent.ts';
import { makeRoute } from './fixtures.ts';
import { NOW, input, spec, weightsOf } from './guard-fixtures.ts';



describe('guard: no intervention', () => {
  it('applies a proposal within every bound as it is, and says the guard did not intervene', () => {
    const r = guard(input([50, 50], [55, 45]));
    expect(weightsOf(r)).toEqual([55, 45]);
    expect(r.applied).toBe(true);
    expect(r.rules).toEqual([]);
    expect(r.reason).toBe(
      'model default@v1: all regions within objectives (worst p99 190ms in eu-west, objective 250ms); ' +
        'moved 5 points from us-east to eu-west (eu-west=55,us-east=45); the guard did not intervene',
    );
  });

  it('rounds to integer percents summing to exactly 100 (largest remainder)', () => {
    const r = guard(input([34, 33, 33], [1, 1, 1]));
    expect(weightsOf(r)).toEqual([34, 33, 33]);
    const s = guard(input([30, 30, 40], [2, 1, 1.0001], { spec: { maxWeightStep: 100 } }));
    expect(weightsOf(s).reduce((a, b) => a + b, 0)).toBe(100);
    expect(weightsOf(s).every(Number.isInteger)).toBe(true);
  });
});

describe('guard: bounded step', () => {
  it('moves no region more than maxWeightStep points, and says from how far it capped', () => {
    const r = guard(input([50, 50], [90, 10]));
    expect(weightsOf(r)).toEqual([60, 40]);
    expect(r.rules).toEqual([GUARD_RULES.stepCapped]);
    expect(r.reason).toContain('moved 10 points from us-east to eu-west (eu-west=60,us-east=40); step capped: eu-west would have moved 40 points, maxWeightStep is 10');
  });

  it('holds for any proposal, current weights and health, with integers summing to 100 (randomised, seeded)', () => {
    const random = prng(42);
    for (let k = 0; k < 400; k++) {
      const n = 1 + Math.floor(random() * 4);
      const current = largestRemainder(Array.from({ length: n }, () => (random() < 0.2 ? 0 : random())).map((x, i) => (i === 0 ? x + 0.01 : x)));
      const proposed: number[] = Array.from({ length: n }, () => (random() < 0.2 ? 0 : random()));
      if (!proposed.some((p) => p > 0)) proposed[0] = 1;
      const step = 1 + Math.floor(random() * 30);
      const minWeight = Math.floor(random() * Math.min(20, 100 / n));
      const r = guard(input(current, proposed, { spec: { maxWeightStep: step, minWeight } }));
      const w = weightsOf(r);
      expect(w.reduce((a, b) => a + b, 0)).toBe(100);
      w.forEach((x, i) => {
        expect(Number.isInteger(x)).toBe(true);
        expect(Math.abs(x - current[i]!)).toBeLessThanOrEqual(step);
      });
    }
  });
});

describe('guard: minimum weight floor', () => {
  it('keeps every healthy region at minWeight percent, whatever the proposal', () => {
    const r = guard(input([50, 50], [99, 1], { spec: { maxWeightStep: 100 } }));
    expect(weightsOf(r)).toEqual([95, 5]);
    expect(r.rules).toEqual([GUARD_RULES.floor]);
    expect(r.reason).toContain('kept us-east (proposed 1%) at the 5% floor');
  });

  it('counts a region without a health verdict as healthy (it is probed)', () => {
    const r = guard(input([50, 50], [100, 0], { spec: { maxWeightStep: 100 }, regions: [{}, { healthy: null }] }));
    expect(weightsOf(r)).toEqual([95, 5]);
  });

  it('yields to the step bound: a region far below the floor climbs one step at a time', () => {
    const r = guard(input([100, 0], [100, 0], { spec: { maxWeightStep: 2, minWeight: 5 } }));
    expect(weightsOf(r)).toEqual([98, 2]);
  });
});

describe('guard: hard health override', () => {
  it('sends nothing to a failing region while a healthy one exists, at once, overriding the floor and the step', () => {
    const r = guard(input([50, 30, 20], [50, 30, 20], { regions: [{ healthy: false }, {}, {}] }));
    expect(weightsOf(r)).toEqual([0, 60, 40]);
    expect(r.rules).toContain(GUARD_RULES.healthOverride);
    expect(r.reason).toContain('no traffic to eu-west (health failing while a healthy region exists)');
    expect(r.reason).toContain('eu-west health failing');
  });

  it('singles out no region when every one fails, and spreads over all of them rather than concentrating', () => {
    const failing = { healthy: false };
    const r = guard(input([80, 20], [95, 5], { regions: [failing, failing] }));
    expect(weightsOf(r)).toEqual([70, 30]);
    expect(r.rules).not.toContain(GUARD_RULES.healthOverride);
    expect(r.rules).toContain(GUARD_RULES.spread);
    expect(r.reason).toContain('every region fails its health check: none is singled out');
    expect(r.reason).toContain('every region looks failing: spread over all of them rather than concentrated');
  });

  it('sends nothing to remote regions when failover is disabled', () => {
    const r = guard(input([80, 20], [60, 40], { spec: { failoverEnabled: false }, regions: [{}, { remote: true }] }));
    expect(weightsOf(r)).toEqual([100, 0]);
    expect(r.rules).toContain(GUARD_RULES.failoverDisabled);
  });
});

describe('guard: fail-static', () => {
  it('keeps the current weights and retries when any region is stale, and does not apply', () => {
    const r = guard(input([50, 50], [90, 10], { regions: [{}, { fresh: false }], retries: 3 }));
    expect(weightsOf(r)).toEqual([50, 50]);
    expect(r.retryAttempts).toBe(2);
    expect(r.applied).toBe(false);
    expect(r.rules).toEqual([GUARD_RULES.failStatic]);
    expect(r.reason).toContain('telemetry stale for us-east');
    expect(r.reason).toContain('fail-static: telemetry is stale, the current weights stay (model default@v1 not followed)');
  });

  it('still takes traffic off a region whose last health verdict is failing', () => {
    const r = guard(input([50, 50], [90, 10], { regions: [{ healthy: false }, { fresh: false }] }));
    expect(weightsOf(r)).toEqual([0, 100]);
    expect(r.applied).toBe(true);
    expect(r.rules).toEqual([GUARD_RULES.healthOverride, GUARD_RULES.failStatic]);
  });
});

describe('guard: rollback', () => {
  const breached = [{ latencyP99Ms: 400 }, { latencyP99Ms: 400 }];
  const afterMove = (over: Partial<GuardState> = {}): GuardState => ({
    step: 3,
    lastDecisionTime: new Date(NOW - 30_000).toISOString(),
    sloBefore: 'met',
    moved: true,
    lastGood: { weights: [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }], retryAttempts: 1, perTryTimeout: '300ms' },
    ...over,
  });

  it('restores the last good weights and retries when the SLO broke after a decision that moved weights', () => {
    const r = guard(input([70, 30], [90, 10], { regions: breached, state: afterMove() }));
    expect(weightsOf(r)).toEqual([60, 40]);
    expect(r.retryAttempts).toBe(1);
    expect(r.perTryTimeoutMs).toBe(300);
    expect(r.rules).toEqual([GUARD_RULES.rollback]);
    expect(r.applied).toBe(true);
    expect(r.reason).toContain('rollback: the SLO was met before the last decision and is breached now (p99 400ms of 250ms');
    expect(r.state).toMatchObject({ step: 4, sloBefore: 'breached', moved: true, holdUntilStep: 4 + 1 + ROLLBACK_HOLD_DECISIONS });
  });

  it('then holds the restored weights for ROLLBACK_HOLD_DECISIONS decisions before following proposals again', () => {
    let state = guard(input([70, 30], [90, 10], { regions: breached, state: afterMove() })).state;
    for (let k = 0; k < ROLLBACK_HOLD_DECISIONS; k++) {
      const held = guard(input([60, 40], [90, 10], { state }));
      expect(held.rules).toEqual([GUARD_RULES.rollbackHold]);
      expect(weightsOf(held)).toEqual([60, 40]);
      expect(held.applied).toBe(false);
      state = held.state;
    }
    const free = guard(input([60, 40], [90, 10], { state }));
    expect(weightsOf(free)).toEqual([70, 30]);
    expect(free.state.holdUntilStep).toBeUndefined();
  });

  it('lets a hold take load off a region that breaks an objective, and nothing else', () => {
    const state = guard(input([70, 30], [90, 10], { regions: breached, state: afterMove() })).state;
    // us-east's p99 now breaks the 250 ms objective (an incident that began after the rollback): the
    // proposal's move off it goes through, within the step bound.
    const off = guard(input([60, 40], [90, 10], { regions: [{ latencyP99Ms: 120 }, { latencyP99Ms: 400 }], state }));
    expect(off.rules).toContain(GUARD_RULES.rollbackHold);
    expect(weightsOf(off)[1]).toBeLessThan(40);
    expect(off.applied).toBe(true);
    expect(off.reason).toContain('but for load taken off regions that break an objective');
    // A proposal that would put more on the breaking region is held.
    const onto = guard(input([60, 40], [30, 70], { regions: [{ latencyP99Ms: 120 }, { latencyP99Ms: 400 }], state }));
    expect(weightsOf(onto)).toEqual([60, 40]);
  });

  it('does not roll back when the SLO was already breached, nothing moved, or the breach came long after', () => {
    for (const state of [afterMove({ sloBefore: 'breached' }), afterMove({ moved: false }), afterMove({ lastDecisionTime: new Date(NOW - 10 * 60_000).toISOString() })]) {
      const r = guard(input([70, 30], [75, 25], { regions: breached, state }));
      expect(r.rules).not.toContain(GUARD_RULES.rollback);
      expect(weightsOf(r)).toEqual([75, 25]);
    }
  });

  it('remembers the weights in force as last good whenever a decision finds the SLO met', () => {
    const r = guard(input([70, 30], [75, 25]));
    expect(r.slo.state).toBe('met');
    expect(r.state.lastGood).toEqual({ weights: [{ region: 'eu-west', weight: 70 }, { region: 'us-east', weight: 30 }], retryAttempts: 2, perTryTimeout: '500ms' });
    expect(r.state).toMatchObject({ step: 1, sloBefore: 'met', moved: true, lastDecisionTime: new Date(NOW).toISOString() });
  });

  it('counts a decision that changed only the retry settings as one that moved (so it can be rolled back)', () => {
    const r = guard(input([50, 50], [50, 50], { retries: 3 }));
    expect(weightsOf(r)).toEqual([50, 50]);
    expect(r.state.moved).toBe(true);
    expect(guard(input([50, 50], [50, 50])).state.moved).toBe(false);
  });

  it('gives way to fail-static: stale data never triggers a rollback', () => {
    const r = guard(input([70, 30], [90, 10], { regions: [{ latencyP99Ms: 400 }, { latencyP99Ms: 400, fresh: false }], state: afterMove() }));
    expect(r.rules).toEqual([GUARD_RULES.failStatic]);
    expect(weightsOf(r)).toEqual([70, 30]);
  });
});

describe('guard: modes', () => {
  it('shadow: computes and reports, applies nothing, and starts the next shadow decision from this one', () => {
    const first = guard(input([50, 50], [90, 10], { spec: { mode: 'shadow' } }));
    expect(weightsOf(first)).toEqual([60, 40]);
    expect(first.applied).toBe(false);
    expect(first.rules).toEqual([GUARD_RULES.stepCapped, GUARD_RULES.shadow]);
    expect(first.reason).toMatch(/^shadow mode, nothing applied: model default@v1: /);
    expect(first.state.shadowWeights).toEqual(first.weights);
    const second = guard(input([50, 50], [90, 10], { spec: { mode: 'shadow' }, state: first.state }));
    expect(weightsOf(second)).toEqual([70, 30]);
    expect(second.state.moved).toBe(false);
  });

  it('static: the spec weights over the primary priority group, no proposal needed', () => {
    const base = input([50, 50], [90, 10]);
    const { proposal: _ignored, ...rest } = base;
    const r = guard({
      ...rest,
      spec: spec(['eu-west', 'us-east'], {
        mode: 'static',
        destinations: [
          { region: 'eu-west', weight: 7, priority: 0 },
          { region: 'us-east', weight: 3, priority: 1 },
        ],
      }),
    });
    expect(weightsOf(r)).toEqual([100, 0]);
    expect(r.rules).toEqual([GUARD_RULES.static]);
    expect(r.applied).toBe(true);
    expect(r.reason).toBe("static mode: serving the spec's weights (eu-west=100,us-east=0); no policy is consulted");
  });

  it('refuses an enforce decision without a proposal', () => {
    const { proposal: _ignored, ...rest } = input([50, 50], [50, 50]);
    expect(() => guard(rest)).toThrow(TypeError);
  });
});

describe('guard: retries', () => {
  it('clamps retries and the per-try timeout into the spec bounds and says so', () => {
    const r = guard(input([50, 50], [50, 50], { retries: 9, perTry: 5_000 }));
    expect(r.retryAttempts).toBe(3);
    expect(r.perTryTimeoutMs).toBe(2_000);
    expect(r.rules).toEqual([GUARD_RULES.retriesClamped]);
    expect(r.reason).toContain('retries 2→3, per-try timeout 500ms→2s');
  });
});

describe('guard: rules combined', () => {
  it('health override first, then floor and step from the redistributed weights', () => {
    // eu-west fails: its 40 go to us-east and ap-south (30/30 → 50/50); the model wants all on us-east.
    const r = guard(input([40, 30, 30], [10, 89, 1], { regions: [{ healthy: false }, {}, {}] }));
    expect(weightsOf(r)).toEqual([0, 60, 40]);
    expect(r.rules).toEqual([GUARD_RULES.healthOverride, GUARD_RULES.floor, GUARD_RULES.stepCapped]);
  });

  it('reads its bounds from a route', () => {
    const route = makeRoute('checkout', [{ region: 'eu-west', weight: 70 }, { region: 'us-east', weight: 30, priority: 1 }], {
      policy: { mode: 'shadow', maxWeightStep: 15, minWeight: 10, decisionInterval: '20s' },
      failover: { enabled: false },
    });
    expect(guardSpecFrom(route)).toEqual({
      mode: 'shadow',
      maxWeightStep: 15,
      minWeight: 10,
      failoverEnabled: false,
      decisionIntervalMs: 20_000,
      destinations: [
        { region: 'eu-west', weight: 70, priority: 0 },
        { region: 'us-east', weight: 30, priority: 1 },
      ],
    });
  });

  it('explains what the model saw and why the guard capped it', () => {
    const r = guard(input([50, 50], [75, 25], { regions: [{}, { latencyP99Ms: 412 }] }));
    expect(r.reason).toBe(
      'model default@v1: us-east p99 412ms over the 250ms objective; moved 10 points from us-east to eu-west (eu-west=60,us-east=40); ' +
        'step capped: eu-west would have moved 25 points, maxWeightStep is 10',
    );
  });
});

describe('parseGuardState', () => {
  it('reads back what the guard returns, dropping unknown fields', () => {
    const { state } = guard(input([70, 30], [75, 25], { spec: { mode: 'shadow' } }));
    expect(parseGuardState(JSON.parse(JSON.stringify({ ...state, extra: 1 })))).toEqual({ state });
    expect(parseGuardState(undefined)).toEqual({ state: { step: 0 } });
  });

  it('starts afresh from a malformed state and names the field', () => {
    expect(parseGuardState({ step: -1 })).toEqual({ state: { step: 0 }, problem: 'status.policy.guard.step: expected a non-negative integer' });
    expect(parseGuardState({ step: 2, lastGood: { weights: [{ region: 'a', weight: 150 }], retryAttempts: 1, perTryTimeout: '1s' } }).problem).toBe(
      'status.policy.guard.lastGood.weights[0]: expected { region, weight } with an integer weight 0..100',
    );
    expect(parseGuardState({ step: 2, lastGood: { weights: [], retryAttempts: 1, perTryTimeout: 'soon' } }).problem).toMatch(/lastGood\.perTryTimeout/);
    expect(parseGuardState('x').problem).toBe('status.policy.guard: expected an object');
  });
});

describe('guard probation', () => {
  it('does not hold a region that just failed its health check at the floor, and says so', () => {
    // us-east failed at the last decision and looks healthy now; the policy wants it at 0.
    const state: GuardState = { step: 4, probation: [{ region: 'us-east', untilStep: 10, backoff: 6, failing: true }] };
    const r = guard(input([98, 2], [100, 0], { state }));
    expect(r.weights.map((w) => w.weight)).toEqual([100, 0]);
    expect(r.rules).toContain(GUARD_RULES.probation);
    expect(r.reason).toContain('us-east on probation');
    expect(r.state.probation).toEqual([{ region: 'us-east', untilStep: 10, backoff: 6, failing: false }]);
    // After the probation the floor is back.
    const later = guard(input([100, 0], [100, 0], { state: { step: 10, probation: r.state.probation } }));
    expect(later.weights.map((w) => w.weight)).toEqual([95, 5]);
  });

  it('survives a round trip of its state through status', () => {
    const r = guard(input([50, 50], [50, 50], { regions: [{}, { healthy: false }] }));
    expect(parseGuardState(JSON.parse(JSON.stringify(r.state))).state.probation).toEqual(r.state.probation);
    expect(parseGuardState({ step: 1, probation: [{ region: 'x' }] }).problem).toBe('status.policy.guard.probation[0]: expected { region, untilStep, backoff, failing }');
  });
});

describe('guard: measured failure', () => {
  it('treats a region failing a quarter of its requests as failing before its health check says so', () => {
    const r = guard(input([50, 50], [50, 50], { regions: [{ errorRate: FAILING_ERROR_RATE }, {}] }));
    expect(r.weights.map((w) => w.weight)).toEqual([0, 100]);
    expect(r.rules).toContain(GUARD_RULES.healthOverride);
    const below = guard(input([50, 50], [50, 50], { regions: [{ errorRate: FAILING_ERROR_RATE / 2 }, {}] }));
    expect(below.weights.map((w) => w.weight)).toEqual([50, 50]);
  });
});

describe('guard: return to spec', () => {
  const CALM_DECISIONS = 6;
  const returning = { returnAfterDecisions: CALM_DECISIONS };
  it('with returnToSpecAfter set, after that many calm decisions steers back towards the spec weights in bounded steps, and says so', () => {
    // The spec says 50/50; a past incident left us-east at the floor and the model keeps it there.
    let current = [95, 5];
    let state: GuardState | undefined;
    const seen: number[][] = [];
    for (let k = 0; k < CALM_DECISIONS + 5; k++) {
      const r = guard(input(current, [98, 2], { spec: returning, regions: [{}, { saturation: 0.02 }], ...(state ? { state } : {}) }));
      if (k < CALM_DECISIONS - 1) {
        expect(r.rules).not.toContain(GUARD_RULES.returnToSpec);
        expect(weightsOf(r)).toEqual([95, 5]);
      }
      current = weightsOf(r);
      seen.push(current);
      state = r.state;
    }
    expect(seen.slice(-2)).toEqual([[50, 50], [50, 50]]);
    for (let i = 1; i < seen.length; i++) expect(Math.abs(seen[i]![1]! - seen[i - 1]![1]!)).toBeLessThanOrEqual(10);
    const turn = guard(input([95, 5], [98, 2], { spec: returning, regions: [{}, { saturation: 0.02 }], state: { step: 9, calm: CALM_DECISIONS - 1 } }));
    expect(turn.rules).toContain(GUARD_RULES.returnToSpec);
    expect(turn.reason).toContain(`calm for ${CALM_DECISIONS} decisions: returning towards the spec's weights (eu-west=50,us-east=50) instead of model default@v1's`);
    expect(weightsOf(turn)).toEqual([85, 15]);
  });

  it('does not count a decision as calm when a region is near its objective, erring, stale, failing or on probation', () => {
    const calm: GuardState = { step: 9, calm: CALM_DECISIONS - 1 };
    const notCalm: Partial<RegionObservation>[][] = [
      [{}, { latencyP99Ms: CALM_HEADROOM * 250 + 1 }],
      [{}, { errorRate: CALM_HEADROOM * 0.01 + 0.001 }],
      [{}, { fresh: false }],
      [{}, { healthy: false }],
      [{}, { latencyP99Ms: null }],
      [{}, { saturation: CALM_SATURATION + 0.05 }],
    ];
    for (const regions of notCalm) {
      const r = guard(input([95, 5], [98, 2], { regions, spec: returning, state: calm }));
      expect(r.rules).not.toContain(GUARD_RULES.returnToSpec);
      expect(r.state.calm).toBeUndefined();
    }
    const probation = guard(input([95, 5], [98, 2], { spec: returning, state: { ...calm, probation: [{ region: 'us-east', untilStep: 20, backoff: 6, failing: false }] } }));
    expect(probation.rules).not.toContain(GUARD_RULES.returnToSpec);
  });

  it('returns to the primary priority group only, and keeps its count through status', () => {
    const r = guard(input([60, 40], [60, 40], { spec: { ...returning, destinations: [{ region: 'eu-west', weight: 100, priority: 0 }, { region: 'us-east', weight: 100, priority: 1 }] }, state: { step: 9, calm: CALM_DECISIONS } }));
    expect(weightsOf(r)).toEqual([70, 30]);
    expect(parseGuardState(JSON.parse(JSON.stringify(r.state))).state.calm).toBe(CALM_DECISIONS + 1);
    expect(parseGuardState({ step: 1, calm: -1 }).problem).toBe('status.policy.guard.calm: expected a non-negative integer');
  });

  it('never returns when returnToSpecAfter is absent, and keeps no calm count', () => {
    const r = guard(input([95, 5], [98, 2], { state: { step: 40, calm: 30 } }));
    expect(r.rules).not.toContain(GUARD_RULES.returnToSpec);
    expect(weightsOf(r)).toEqual([95, 5]);
    expect(r.state.calm).toBeUndefined();
  });

  it('doubles the calm needed after a return step that ended the calm, and resets it at home', () => {
    // A return step was made; now us-east, refilled, is slow: not calm.
    const hurt = guard(input([85, 15], [90, 10], { spec: returning, regions: [{}, { latencyP99Ms: 240 }], state: { step: 10, calm: 7, returning: true } }));
    expect(hurt.state.calmNeeded).toBe(2 * CALM_DECISIONS);
    const waiting = guard(input([85, 15], [85, 15], { spec: returning, state: { ...hurt.state, calm: CALM_DECISIONS + 1 } }));
    expect(waiting.rules).not.toContain(GUARD_RULES.returnToSpec);
    const home = guard(input([50, 50], [50, 50], { spec: returning, state: { step: 30, calm: 3, calmNeeded: 4 * CALM_DECISIONS } }));
    expect(home.state.calmNeeded).toBeUndefined();
  });

  it('reads the number of calm decisions from a route: returnToSpecAfter over decisionInterval, rounded up', () => {
    const dests = [{ region: 'eu-west', weight: 50 }, { region: 'us-east', weight: 50 }];
    expect(guardSpecFrom(makeRoute('r', dests, { policy: { decisionInterval: '30s', returnToSpecAfter: '2m10s' } })).returnAfterDecisions).toBe(5);
    expect(guardSpecFrom(makeRoute('r', dests, { policy: { decisionInterval: '30s' } })).returnAfterDecisions).toBeUndefined();
  });
});

describe('guard: evidence before moves', () => {
  const quiet: Partial<RegionObservation>[] = [{ latencyP99Ms: 120 }, { latencyP99Ms: 110 }, { latencyP99Ms: 100 }];

  it('holds the weights when every region is fresh and well within its objectives, whatever the proposal', () => {
    const r = guard(input([50, 30, 20], [90, 5, 5], { regions: quiet }));
    expect(weightsOf(r)).toEqual([50, 30, 20]);
    expect(r.rules).toEqual([GUARD_RULES.noEvidence]);
    expect(r.applied).toBe(true);
    expect(r.reason).toContain('no evidence to move: every region is within its objectives, so the weights hold (model default@v1 proposed eu-west=90,us-east=5,ap-south=5)');
  });

  it.each([
    ['a p99 past 70% of the objective', [{ latencyP99Ms: 180 }, {}, {}]],
    ['an error rate past 70% of the budget', [{ latencyP99Ms: 120, errorRate: 0.008 }, { latencyP99Ms: 110 }, { latencyP99Ms: 100 }]],
    ['a region more than 70% saturated', [{ latencyP99Ms: 120 }, { latencyP99Ms: 110, saturation: 0.72 }, { latencyP99Ms: 100 }]],
    ['a p99 rising fast from half the objective', [{ latencyP99Ms: 120 }, { latencyP99Ms: 130, latencyP99Trend: 0.3 }, { latencyP99Ms: 100 }]],
    ['load rising fast on a half-saturated region', [{ latencyP99Ms: 120, saturation: 0.55, requestRateTrend: 0.3 }, { latencyP99Ms: 110 }, { latencyP99Ms: 100 }]],
  ])('follows the proposal (by bounded steps) given evidence: %s', (_what, regions) => {
    const r = guard(input([50, 30, 20], [90, 5, 5], { regions: regions as Partial<RegionObservation>[] }));
    expect(r.rules).not.toContain(GUARD_RULES.noEvidence);
    expect(weightsOf(r)).toEqual([60, 20, 20]);
  });

  it('follows, without evidence, only the part of a proposal that moves back towards the spec', () => {
    // The spec is an even split; a past incident left 70/20/10.
    const back = guard(input([70, 20, 10], [60, 25, 15], { regions: quiet }));
    expect(weightsOf(back)).toEqual([60, 25, 15]);
    expect(back.rules).not.toContain(GUARD_RULES.noEvidence);
    // us-east would go from 20 down to 10, away from its 33: that part is not followed.
    const mixed = guard(input([70, 20, 10], [60, 10, 30], { regions: quiet }));
    expect(weightsOf(mixed)[1]).toBe(20);
    expect(weightsOf(mixed)[0]).toBeLessThan(70);
    expect(mixed.rules).toContain(GUARD_RULES.noEvidence);
    expect(mixed.reason).toContain('no evidence to move: every region is within its objectives, so only the part of the move back towards the spec is followed');
  });

  it('holds a quiet region with a rising p99 that is still far from the objective', () => {
    const r = guard(input([50, 30, 20], [90, 5, 5], { regions: [{ latencyP99Ms: 100, latencyP99Trend: 0.5 }, { latencyP99Ms: 110 }, { latencyP99Ms: 100 }] }));
    expect(r.rules).toEqual([GUARD_RULES.noEvidence]);
  });
});
