// The benchmark runner. `npm run bench -- NAME [--quick] [flags…]` runs test/bench/NAME.bench.ts:
// the module's `run(options)` gets the flags it did not consume, progress goes to stderr, and
// the one JSON result is the LAST line on stdout. `npm run bench` alone lists the benches.
// Every child process a bench starts through `options.workers` is killed on success, error,
// SIGINT/SIGTERM and when the time limit (`--timeout-min`, default 20) passes.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './support/types.ts';
import { WorkerPool } from './support/workers.ts';
import { flagValue } from './support/stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SUFFIX = '.bench.ts';

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

async function main(argv: string[]): Promise<number> {
  // The name comes first; everything after it is flags.
  const name = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const benches = available();
  if (name === undefined) {
    process.stderr.write(`usage: npm run bench -- NAME [--quick] [flags]\navailable: ${benches.join(', ')}\n`);
    process.stdout.write(`${JSON.stringify({ benches })}\n`);
    return 0;
  }
  if (!benches.includes(name)) {
    process.stderr.write(`unknown bench "${name}"; available: ${benches.join(', ')}\n`);
    return 2;
  }
  const quick = argv.includes('--quick');
  const timeoutMin = Number(flagValue(argv, '--timeout-min') ?? 20);
  const args = argv.slice(1).filter((a) => a !== '--quick');

  const workers = new WorkerPool();
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = signal;
    log(`${signal}: stopping workers`);
    controller.abort(new Error(`interrupted by ${signal}`));
    workers.killAll();
    // Leave a moment for the bench's own clean-up, then go regardless.
    setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 2_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const limit = setTimeout(() => {
    log(`time limit of ${timeoutMin} min reached`);
    controller.abort(new Error(`time limit of ${timeoutMin} min reached`));
    workers.killAll();
  }, timeoutMin * 60_000);

  const started = performance.now();
  let result: BenchResult;
  let code = 0;
  try {
    const mod = (await import(pathToFileURL(join(here, `${name}${SUFFIX}`)).href)) as BenchModule;
    log(`running ${name}${quick ? ' (quick)' : ''}`);
    result = await mod.run({ quick, args, signal: controller.signal, log, workers });
  } catch (e) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : e;
    const message = reason instanceof Error ? reason.message : String(reason);
    log(`failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
    result = { bench: name, results: [], error: message };
    code = 1;
  } finally {
    clearTimeout(limit);
    await workers.stopAll(3_000);
  }
  log(`${name} finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return interrupted ? 130 : code;
}

process.exitCode = await main(process.argv.slice(2));
