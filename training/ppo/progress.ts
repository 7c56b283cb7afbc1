// Training progress on stderr: a bar redrawn in place on a terminal, one plain line per
// iteration otherwise (CI logs, files), both with the figures that tell whether learning works.
import type { IterationStats } from './trainer.ts';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The figures of one iteration, e.g. "ep 16 ret -3.21 slo 12.0s kl 0.012 clip 0.08 ent 9.10". */
export function formatFigures(s: IterationStats): string {
  return [
    `ep ${s.totals.episodes}`,
    `ret ${s.meanReturn.toFixed(3)}`,
    `slo ${s.sloViolationSec.toFixed(1)}s`,
    `kl ${s.update.approxKl.toFixed(4)}`,
    `clip ${s.update.clipFraction.toFixed(3)}`,
    `ent ${s.update.entropy.toFixed(2)}`,
  ].join('  ');
}

export class ProgressReporter {
  private readonly stream: ProgressStream;
  private readonly total: number;
  private readonly first: number;
  private drawn = false;

  /** `first`: iterations already done when this session started (a resume); the ETA uses this session's pace. */
  constructor(stream: ProgressStream, total: number, first: number) {
    this.stream = stream;
    this.total = total;
    this.first = first;
  }

  /** `sessionSec`: wall-clock seconds since this session's first iteration began. */
  update(s: IterationStats, sessionSec: number): void {
    const done = s.iteration - this.first;
    const eta = done > 0 ? (sessionSec / done) * (this.total - s.iteration) : NaN;
    const timing = `${formatDuration(s.totals.elapsedSec)} ETA ${formatDuration(eta)}`;
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round((width * s.iteration) / this.total);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      let line = `${bar} ${s.iteration}/${this.total}  ${formatFigures(s)}  ${timing}`;
      const columns = this.stream.columns ?? 0;
      if (columns > 10 && line.length > columns - 1) line = line.slice(0, columns - 1);
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else {
      this.stream.write(`iteration ${s.iteration}/${this.total}  ${formatFigures(s)}  elapsed ${timing}\n`);
    }
  }

  /** Ends the bar's line so that what follows starts on its own line. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
