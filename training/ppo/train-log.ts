// The JSON training log: one line per iteration, appended, so a resumed run continues the file
// of the run it resumes.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { IterationStats } from './trainer.ts';

/** The log line of an iteration: the stats, flat enough for jq, plus the time it was written. */
export function logRecord(s: IterationStats, at: Date): Record<string, unknown> {
  return { time: at.toISOString(), ...s };
}

export class TrainLog {
  private readonly file: string;
  private ready: Promise<unknown> | null = null;

  constructor(file: string) {
    this.file = file;
  }

  async write(s: IterationStats, at = new Date()): Promise<void> {
    this.ready ??= mkdir(dirname(this.file), { recursive: true });
    await this.ready;
    await appendFile(this.file, `${JSON.stringify(logRecord(s, at))}\n`);
  }
}
