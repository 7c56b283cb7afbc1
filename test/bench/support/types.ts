// The contract between the benchmark runner (test/bench/run.ts) and a benchmark module
// (test/bench/NAME.bench.ts): the module exports `run(options)` and returns one JSON-able
// result; the runner prints it as the last line on stdout.
import type { WorkerPool } from './workers.ts';

export interface BenchOptions {
  /** A reduced matrix meant as a smoke test (seconds, not minutes). */
  quick: boolean;
  /** Flags after the bench name that the runner does not consume, for the bench to parse. */
  args: readonly string[];
  /** Aborted on SIGINT/SIGTERM or when the runner's time limit passes. */
  signal: AbortSignal;
  /** Progress for humans: one line on stderr. Never write progress to stdout. */
  log: (message: string) => void;
  /** Child processes started through this pool are killed whatever way the run ends. */
  workers: WorkerPool;
}

/** What every bench returns: its name and one row per measured configuration. */
export interface BenchResult {
  bench: string;
  results: unknown[];
  [extra: string]: unknown;
}

export interface BenchModule {
  run(options: BenchOptions): Promise<BenchResult>;
}
