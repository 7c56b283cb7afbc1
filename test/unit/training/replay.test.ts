import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../operator/base/errors.ts';
import type { DecisionRecord, OutcomeRecord } from '../../../operator/telemetry/decision-log.ts';
import { readDecisionLog, replayDecisionLog } from '../../../training/sim/replay.ts';
import { makeRoute, makeSnapshot } from '../policy/fixtures.ts';

const route = makeRoute('checkout', [{ region: 'eu-west', weight: 60 }, { region: 'us-east', weight: 40 }, { region: 'ap-south', weight: 0, priority: 1 }], {
  retries: { attempts: { min: 0, max: 3 }, perTryTimeout: { min: '100ms', max: '1s' } },
  timeout: { min: '1s', max: '4s' },
});
const KEY = 'shop/checkout';

function decision(id: string, time: string, weights: [string, number][], over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    schema: 'meshpilot.decision/v1',
    id,
    route: KEY,
    generation: 1,
    time,
    mode: 'enforce',
    policy: 'model',
    modelVersion: 'default-v1',
    observation: makeSnapshot(KEY, [{ region: 'eu-west', p99: 200 }, { region: 'us-east' }, { region: 'ap-south', requestRate: 0, p99: null }]),
    action: { weights: weights.map(([region, weight]) => ({ region, weight })), retryAttempts: 1, perTryTimeoutMs: 300, timeoutMs: 2000 },
    actionProbability: 0.25,
    applied: true,
    reason: 'test',
    ...over,
  };
}

function outcome(decisionId: string, time: string, p99: number): OutcomeRecord {
  return { schema: 'meshpilot.decision-outcome/v1', decisionId, route: KEY, time, observation: makeSnapshot(KEY, [{ region: 'eu-west', p99 }, { region: 'us-east' }, { region: 'ap-south' }]) };
}

const lines = (...records: object[]) => records.map((r) => JSON.stringify(r)).join('\n');

describe('replayDecisionLog', () => {
  it('turns decisions and their outcomes into (observation, action, outcome) steps, as serving observed them', () => {
    const text = lines(
      decision('d1', '2026-01-01T00:00:00Z', [['eu-west', 70], ['us-east', 30]]),
      outcome('d1', '2026-01-01T00:00:30Z', 150),
      decision('d2', '2026-01-01T00:00:30Z', [['eu-west', 50], ['us-east', 40], ['ap-south', 10]], { applied: false, actionProbability: null, features: [0.5, 1] }),
      outcome('d2', '2026-01-01T00:01:00Z', 140),
    );
    const { routes, otherRoutes, orphanOutcomes } = replayDecisionLog(text, [route], 'log.jsonl');
    expect(otherRoutes).toBe(0);
    expect(orphanOutcomes).toBe(0);
    const steps = routes.get(KEY)!;
    expect(steps.map((s) => s.decisionId)).toEqual(['d1', 'd2']);
    const [first, second] = steps;
    // Before the first record the spec's static intent was in force.
    expect(first!.observation.regions.map((r) => r.weightPercent)).toEqual([60, 40, 0]);
    expect(first!.observation.retryAttempts).toBe(3);
    expect(first!.observation.perTryTimeoutMs).toBe(1000);
    expect(first!.observation.regions.map((r) => r.remote)).toEqual([false, false, true]);
    expect(first!.observation.regions[0]!.latencyP99Ms).toBe(200);
    expect(first!.action).toEqual({ weights: [0.7, 0.3, 0], retryAttempts: 1, perTryTimeoutMs: 300 });
    expect(first!.actionProbability).toBe(0.25);
    expect(first!.timeMs).toBe(Date.parse('2026-01-01T00:00:00Z'));
    // The outcome is observed under the action that was applied.
    expect(first!.outcome!.regions.map((r) => r.weightPercent)).toEqual([70, 30, 0]);
    expect(first!.outcome!.regions[0]!.latencyP99Ms).toBe(150);
    expect(first!.outcomeTimeMs).toBe(Date.parse('2026-01-01T00:00:30Z'));
    // The next decision starts from what the previous one put in force.
    expect(second!.observation.regions.map((r) => r.weightPercent)).toEqual([70, 30, 0]);
    expect(second!.observation.retryAttempts).toBe(1);
    expect(second!.features).toEqual([0.5, 1]);
    expect(second!.applied).toBe(false);
    // A decision that was not applied leaves the intent as it was.
    expect(second!.outcome!.regions.map((r) => r.weightPercent)).toEqual([70, 30, 0]);
  });

  it('expects gaps: a missing outcome is null, an outcome without its decision is counted, other routes are skipped', () => {
    const other = { ...decision('x1', '2026-01-01T00:00:00Z', [['eu-west', 100]]), route: 'shop/other' };
    const text = [lines(decision('d1', '2026-01-01T00:00:00Z', [['eu-west', 100]])), '   ', lines(other, outcome('gone', '2026-01-01T00:00:30Z', 100)), ''].join('\n');
    const result = replayDecisionLog(text, [route]);
    expect(result.routes.get(KEY)!.map((s) => s.outcome)).toEqual([null]);
    expect(result.otherRoutes).toBe(1);
    expect(result.orphanOutcomes).toBe(1);
  });

  it('ignores fields it does not know, as a v1 reader must', () => {
    const text = lines({ ...decision('d1', '2026-01-01T00:00:00Z', [['eu-west', 100]]), addedLater: { x: 1 } });
    expect(replayDecisionLog(text, [route]).routes.get(KEY)).toHaveLength(1);
  });

  it('refuses a bad line, naming the file, the line and the field', () => {
    const good = lines(decision('d1', '2026-01-01T00:00:00Z', [['eu-west', 100]]));
    const bad = (record: object | string) => `${good}\n${typeof record === 'string' ? record : JSON.stringify(record)}`;
    const err = (text: string) => {
      try {
        replayDecisionLog(text, [route], 'decisions.jsonl');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(err(bad('{not json'))).toMatch(/^decisions\.jsonl:2: not JSON/);
    expect(err(bad({ schema: 'meshpilot.decision/v2' }))).toMatch(/^decisions\.jsonl:2: schema: "meshpilot\.decision\/v2" is neither/);
    const noProbability = decision('d2', '2026-01-01T00:00:10Z', [['eu-west', 100]]) as unknown as Record<string, unknown>;
    noProbability.actionProbability = 'high';
    expect(err(bad(noProbability))).toMatch(/^decisions\.jsonl:2: actionProbability: /);
    const badTime = decision('d3', 'yesterday', [['eu-west', 100]]);
    expect(err(bad(badTime))).toBe('decisions.jsonl:2: time: must be an RFC 3339 time');
    const badSignal = decision('d4', '2026-01-01T00:00:10Z', [['eu-west', 100]]);
    (badSignal.observation.regions[0]!.signals.latencyP99 as { value: unknown }).value = 'slow';
    expect(err(bad(badSignal))).toMatch(/^decisions\.jsonl:2: observation\.regions\[0\]\.signals\.latencyP99\.value: /);
    expect(err(bad(decision('d5', '2026-01-01T00:00:10Z', [['mars', 100]])))).toBe('decisions.jsonl:2: action.weights: region "mars" is not a destination of shop/checkout');
  });

  it('reads a file, and names it when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshpilot-replay-'));
    try {
      const file = join(dir, 'decisions.jsonl');
      await writeFile(file, `${lines(decision('d1', '2026-01-01T00:00:00Z', [['eu-west', 100]]))}\n`);
      expect((await readDecisionLog(file, [route])).routes.get(KEY)).toHaveLength(1);
      await expect(readDecisionLog(join(dir, 'absent.jsonl'), [route])).rejects.toThrow(/absent\.jsonl: cannot read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
