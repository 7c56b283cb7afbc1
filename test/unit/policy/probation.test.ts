import { nextProbation, onProbation, PROBATION_BASE_DECISIONS, PROBATION_MAX_DECISIONS } from '../../../operator/policy/probation.ts';

const REGIONS = ['eu-west', 'eu-central'];

describe('probation', () => {
  it('puts a failing region on probation, doubling the period with every relapse, up to a cap', () => {
    let entries = nextProbation(undefined, REGIONS, [false, true], 1);
    expect(entries).toEqual([{ region: 'eu-central', untilStep: 1 + PROBATION_BASE_DECISIONS, backoff: PROBATION_BASE_DECISIONS, failing: true }]);
    // Still failing: the period runs from the last failing decision, not longer.
    entries = nextProbation(entries, REGIONS, [false, true], 2);
    expect(entries[0]).toMatchObject({ untilStep: 2 + PROBATION_BASE_DECISIONS, backoff: PROBATION_BASE_DECISIONS });
    expect(onProbation(entries, REGIONS, 3)).toEqual([false, true]);
    // Healthy again, then a relapse: twice as long.
    entries = nextProbation(entries, REGIONS, [false, false], 3);
    expect(entries[0]!.failing).toBe(false);
    entries = nextProbation(entries, REGIONS, [false, true], 4);
    expect(entries[0]).toMatchObject({ backoff: 2 * PROBATION_BASE_DECISIONS, untilStep: 4 + 2 * PROBATION_BASE_DECISIONS });
    for (let step = 5, relapse = 0; relapse < 10; relapse++, step += 2) {
      entries = nextProbation(entries, REGIONS, [false, false], step);
      entries = nextProbation(entries, REGIONS, [false, true], step + 1);
    }
    expect(entries[0]!.backoff).toBe(PROBATION_MAX_DECISIONS);
  });

  it('ends probation after the period and forgets a region that stays healthy', () => {
    let entries = nextProbation(undefined, REGIONS, [false, true], 10);
    entries = nextProbation(entries, REGIONS, [false, false], 11);
    expect(onProbation(entries, REGIONS, 10 + PROBATION_BASE_DECISIONS - 1)).toEqual([false, true]);
    expect(onProbation(entries, REGIONS, 10 + PROBATION_BASE_DECISIONS)).toEqual([false, false]);
    entries = nextProbation(entries, REGIONS, [false, false], 10 + 5 * PROBATION_BASE_DECISIONS);
    expect(entries).toEqual([]);
  });
});
