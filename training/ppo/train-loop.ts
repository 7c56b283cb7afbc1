// Runs a trainer to the end of its run: iterations, a checkpoint every N of them (and at the
// end, and when stopped), one log line and one progress update per iteration.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkpointName } from './checkpoint.ts';
import type { ProgressReporter } from './progress.ts';
import type { TrainLog } from './train-log.ts';
import type { IterationStats, PpoTrainer } from './trainer.ts';

export interface TrainLoopOptions {
  /** Where iter-N checkpoints go (none: no checkpoints). */
  checkpointDir?: string;
  checkpointEvery: number;
  /** Checkpoints kept; older ones are removed. */
  keepCheckpoints?: number;
  log?: TrainLog;
  progress?: ProgressReporter;
  /** Checked between iterations: when aborted, the loop checkpoints and returns. */
  signal?: AbortSignal;
  now?: () => number;
}

export interface TrainLoopResult {
  /** Stats of the iterations run in this call. */
  history: IterationStats[];
  /** False when the signal stopped the run early. */
  finished: boolean;
  /** The last checkpoint written, if any. */
  checkpoint: string | null;
}

export async function trainLoop(trainer: PpoTrainer, o: TrainLoopOptions): Promise<TrainLoopResult> {
  const now = o.now ?? (() => performance.now());
  const start = now();
  const history: IterationStats[] = [];
  let checkpoint: string | null = null;
  const save = async () => {
    if (!o.checkpointDir || trainer.iteration === 0) return;
    const dir = join(o.checkpointDir, checkpointName(trainer.iteration));
    if (dir === checkpoint) return;
    await trainer.saveCheckpoint(dir);
    checkpoint = dir;
    await prune(o.checkpointDir, o.keepCheckpoints ?? 2);
  };
  try {
    while (trainer.iteration < trainer.config.iterations) {
      if (o.signal?.aborted) {
        await save();
        return { history, finished: false, checkpoint };
      }
      const stats = await trainer.runIteration();
      history.push(stats);
      await o.log?.write(stats);
      o.progress?.update(stats, (now() - start) / 1000);
      if (stats.iteration % o.checkpointEvery === 0) await save();
    }
    await save();
    return { history, finished: true, checkpoint };
  } finally {
    o.progress?.finish();
  }
}

async function prune(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => /^iter-\d+$/.test(n)).sort();
  for (const n of names.slice(0, Math.max(0, names.length - keep))) await rm(join(dir, n), { recursive: true, force: true });
}
