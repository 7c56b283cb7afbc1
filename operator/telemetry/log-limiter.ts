// Rate limit for repeated log lines: a target or a Prometheus that is down fails at every
// scrape or query, and one line per cause and minute says as much as thousands while keeping
// the log readable.
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';

export class LogLimiter {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(clock: Clock, intervalMs: number) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  /**
   * Whether a line for `key` may be written now; if so, how many were held back since the
   * last one written (for the line to mention). The first line of a key always passes.
   */
  take(key: string): { log: boolean; suppressed: number } {
    const now = this.#clock.now();
    const entry = this.#last.get(key);
    if (entry && now - entry.atMs < this.#intervalMs) {
      entry.suppressed += 1;
      return { log: false, suppressed: entry.suppressed };
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#last.set(key, { atMs: now, suppressed: 0 });
    return { log: true, suppressed };
  }

  /** Forgets every key that starts with `prefix`, so the next failure there is logged at once. */
  forget(prefix: string): void {
    for (const key of this.#last.keys()) if (key.startsWith(prefix)) this.#last.delete(key);
  }
}

/** A logger's warn through a LogLimiter: one line per key per interval, saying how many were held back. */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #limiter: LogLimiter;

  constructor(logger: Logger, clock: Clock, intervalMs = 10_000) {
    this.#logger = logger;
    this.#limiter = new LogLimiter(clock, intervalMs);
  }

  /** Logs at warn unless `key` was logged less than the interval ago (then only counts it). */
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const { log, suppressed } = this.#limiter.take(key);
    if (log) this.#logger.warn(suppressed > 0 ? { ...fields, suppressedSinceLastLine: suppressed } : fields, message);
  }

  /** Forgets the keys that start with `prefix`, so the next line there is written at once. */
  forget(prefix: string): void {
    this.#limiter.forget(prefix);
  }
}
