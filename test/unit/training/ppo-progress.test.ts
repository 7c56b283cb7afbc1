// Training progress on stderr: a bar redrawn in place on a terminal, plain lines elsewhere,
// each with the figures a person watches (episodes, return, SLO seconds, KL, clipping, entropy,
// elapsed time and ETA).
import { describe, expect, it } from '@jest/globals';
import { formatDuration, ProgressReporter } from '../../../training/ppo/progress.ts';
import type { IterationStats } from '../../../training/ppo/trainer.ts';

function stats(iteration: number): IterationStats {
  return {
    iteration,
    episodes: 16,
    steps: 2880,
    meanReturn: -12.3456,
    meanEpisodeSteps: 180,
    sloViolationSec: 42.25,
    crossRegionCost: 1,
    churn: 3,
    actionStd: 0.6,
    update: {
      policyLoss: 0,
      valueLoss: 1,
      entropy: 9.123,
      approxKl: 0.01234,
      clipFraction: 0.0812,
      epochs: 8,
      minibatches: 48,
      actorGradNorm: 1,
      criticGradNorm: 1,
      explainedVariance: 0.5,
    },
    byVariant: {},
    rolloutSec: 0.1,
    updateSec: 0.6,
    rolloutStepsPerSec: 28800,
    totals: { episodes: 16 * iteration, steps: 2880 * iteration, elapsedSec: 30 * iteration },
  };
}

class Sink {
  text = '';
  isTTY: boolean;
  columns = 200;
  constructor(tty: boolean) {
    this.isTTY = tty;
  }
  write(t: string) {
    this.text += t;
    return true;
  }
}

describe('ProgressReporter', () => {
  it('writes one plain line per iteration when stderr is not a terminal', () => {
    const sink = new Sink(false);
    const p = new ProgressReporter(sink, 10, 0);
    p.update(stats(1), 30);
    p.update(stats(2), 60);
    p.finish();
    expect(sink.text).toBe(
      'iteration 1/10  ep 16  ret -12.346  slo 42.3s  kl 0.0123  clip 0.081  ent 9.12  elapsed 30s ETA 4m30s\n' +
        'iteration 2/10  ep 32  ret -12.346  slo 42.3s  kl 0.0123  clip 0.081  ent 9.12  elapsed 1m00s ETA 4m00s\n',
    );
  });

  it('redraws a bar in place on a terminal, ends its line when done, and takes the ETA from this session’s pace', () => {
    const sink = new Sink(true);
    const p = new ProgressReporter(sink, 8, 4); // resumed after iteration 4
    p.update(stats(6), 10); // 2 iterations in 10 s: 2 to go
    expect(sink.text).toBe(`\r\x1b[2K[${'#'.repeat(18)}${'-'.repeat(6)}] 6/8  ep 96  ret -12.346  slo 42.3s  kl 0.0123  clip 0.081  ent 9.12  3m00s ETA 10s`);
    p.finish();
    expect(sink.text.endsWith('\n')).toBe(true);
  });

  it('cuts the bar to the terminal width', () => {
    const sink = new Sink(true);
    sink.columns = 40;
    new ProgressReporter(sink, 8, 0).update(stats(1), 1);
    expect(sink.text.replace('\r\x1b[2K', '')).toHaveLength(39);
  });
});

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect([formatDuration(5.4), formatDuration(125), formatDuration(7300), formatDuration(NaN)]).toEqual(['5s', '2m05s', '2h01m', '?']);
  });
});
