// Graceful shutdown: on SIGTERM or SIGINT, run the registered steps in reverse order of
// registration (last started, first stopped), each bounded by the remaining grace period,
// then exit. A second signal exits at once: an operator that hangs on shutdown is worse than
// one that is killed, since the Lease expires either way.
import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run(): Promise<void> | void;
}

export class Shutdown {
  readonly #steps: ShutdownStep[] = [];
  readonly #logger: Logger;
  readonly #graceMs: number;
  #started: Promise<void> | undefined;

  constructor(logger: Logger, graceMs = 25_000) {
    this.#logger = logger;
    this.#graceMs = graceMs;
  }

  /** Registers a step; steps run in reverse order of registration. */
  add(name: string, run: ShutdownStep['run']): void {
    this.#steps.push({ name, run });
  }

  /** Installs SIGTERM/SIGINT handlers that shut down and exit with `exitCode`. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.#started) {
        this.#logger.warn({ signal }, 'second signal during shutdown, exiting now');
        exit(1);
        return;
      }
      this.#logger.info({ signal }, 'shutting down');
      void this.run().then(() => exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /** Runs every step once; idempotent (later calls return the same promise). */
  run(): Promise<void> {
    this.#started ??= this.#runSteps();
    return this.#started;
  }

  async #runSteps(): Promise<void> {
    const deadline = Date.now() + this.#graceMs;
    for (const step of [...this.#steps].reverse()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#logger.warn({ step: step.name }, 'shutdown grace period exhausted; skipping remaining steps');
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(() => step.run()),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${remaining} ms`)), remaining);
          }),
        ]);
        this.#logger.debug({ step: step.name }, 'shutdown step done');
      } catch (e) {
        this.#logger.warn({ step: step.name, err: e }, 'shutdown step failed');
      } finally {
        clearTimeout(timer);
      }
    }
    this.#logger.info('shutdown complete');
  }
}
