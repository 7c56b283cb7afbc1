// A child process whose stdout is JSON log lines (or one JSON "ready" line): the harness keeps
// every line, can wait for one that matches, and always kills the child in cleanup.
import { spawn, type ChildProcess } from 'node:child_process';

export type LogLine = Record<string, unknown>;

export class JsonLinesChild {
  readonly process: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(command: string, args: string[], env: Record<string, string | undefined> = {}) {
    this.process = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text, unparsed: true };
        }
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
      }
    });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first line (already seen or future) that matches; rejects on exit or timeout. */
  waitForLine(match: (l: LogLine) => boolean, timeoutMs = 30_000, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`)), timeoutMs);
      void this.exited.then((e) =>
        reject(new Error(`process exited (${e.code ?? e.signal}) before ${what}; stderr: ${this.stderr.join('').slice(-2000)}`)),
      );
      this.#waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends a signal and waits for the exit. Safe to call on a process that already exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }
}

/** The Node 24 binary the tests run on (npm scripts put node_modules/.bin first on PATH). */
export const nodeBinary = process.execPath;
