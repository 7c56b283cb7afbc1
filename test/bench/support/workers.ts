// Child processes for benchmarks: a parent forks a worker module, calls named handlers in it
// over the IPC channel (request/response with a timeout) and the pool kills every worker it
// started however the run ends. A worker exits on its own when the parent goes away (the IPC
// channel disconnects), so nothing outlives a runner that was SIGKILLed.
import { fork, type ChildProcess } from 'node:child_process';

type Json = unknown;

interface CallMessage {
  id: number;
  method: string;
  params: Json;
}

interface ReplyMessage {
  id: number;
  ok: boolean;
  result?: Json;
  error?: string;
}

interface EventMessage {
  event: string;
  data: Json;
}

export interface WorkerSpawnOptions {
  /** Extra Node flags for the child (e.g. `--expose-gc`). */
  execArgv?: string[];
  env?: Record<string, string>;
}

/** A forked worker whose handlers the parent calls by name. */
export class WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited, with a human description of how. */
  readonly exited: Promise<string>;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #listeners = new Set<(event: string, data: Json) => void>();
  #exitReason: string | undefined;

  constructor(name: string, modulePath: string, options: WorkerSpawnOptions = {}) {
    this.name = name;
    this.child = fork(modulePath, [], {
      execArgv: [...process.execArgv, ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
      // The worker's stdout goes to our stderr: stdout of the runner carries only the result.
      stdio: ['ignore', 2, 2, 'ipc'],
      serialization: 'advanced',
    });
    this.child.on('message', (m: ReplyMessage | EventMessage) => this.#onMessage(m));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exitReason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        for (const [, p] of this.#pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`worker ${this.name} ${this.#exitReason}`));
        }
        this.#pending.clear();
        resolve(this.#exitReason);
      });
    });
    // A spawn failure arrives as 'error' before (or without) 'exit'.
    this.child.once('error', (e) => {
      for (const [, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.#pending.clear();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `method` in the worker; rejects on a handler error, on timeout, or when the worker exits. */
  call<T = Json>(method: string, params: Json = {}, timeoutMs = 60_000): Promise<T> {
    if (!this.running || !this.child.connected) {
      return Promise.reject(new Error(`worker ${this.name} is not running (${this.#exitReason ?? 'disconnected'})`));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`worker ${this.name}: ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: Json) => void, reject, timer });
      const message: CallMessage = { id, method, params };
      this.child.send(message, (e) => {
        if (!e) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e);
      });
    });
  }

  /** Subscribes to events the worker emits with `emit()`; returns an unsubscribe function. */
  onEvent(listener: (event: string, data: Json) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Asks the worker to shut down, and SIGKILLs it after `graceMs`. Idempotent. */
  async stop(graceMs = 5_000): Promise<string> {
    if (this.running) {
      this.call('shutdown', {}, graceMs).catch(() => undefined);
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  /** SIGKILLs the worker if it is still running. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  #onMessage(m: ReplyMessage | EventMessage): void {
    if ('event' in m) {
      for (const l of this.#listeners) l(m.event, m.data);
      return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`worker ${this.name}: ${m.error ?? 'unknown error'}`));
  }
}

/** Every worker a run started; `killAll` is safe to call from a signal handler. */
export class WorkerPool {
  readonly #workers = new Set<WorkerProcess>();

  spawn(name: string, modulePath: string, options: WorkerSpawnOptions = {}): WorkerProcess {
    const w = new WorkerProcess(name, modulePath, options);
    this.#workers.add(w);
    void w.exited.then(() => this.#workers.delete(w));
    return w;
  }

  /** Graceful shutdown of every worker still running, SIGKILL after the grace period. */
  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all([...this.#workers].map((w) => w.stop(graceMs)));
  }

  killAll(): void {
    for (const w of this.#workers) w.kill();
  }
}

// ---- the worker side ----------------------------------------------------------------------

export type Handlers = Record<string, (params: never) => unknown>;

/** Sends an event to the parent (see `WorkerProcess.onEvent`). */
export function emit(event: string, data: Json = {}): void {
  const message: EventMessage = { event, data };
  process.send?.(message);
}

/**
 * Serves `handlers` to the parent over IPC. Adds `shutdown`, which runs `onShutdown` and exits.
 * The process exits when the parent disconnects.
 */
export function serveWorker(handlers: Handlers, onShutdown: () => Promise<void> | void = () => undefined): void {
  if (!process.send) throw new Error('serveWorker: not started with an IPC channel (use WorkerPool.spawn)');
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await onShutdown();
      } catch (e) {
        console.error(`shutdown: ${e instanceof Error ? e.message : String(e)}`);
      }
    })());
  process.on('disconnect', () => void shutdown().then(() => process.exit(0)));
  process.on('message', (m: CallMessage) => {
    void (async () => {
      if (m.method === 'shutdown') {
        await shutdown();
        process.send?.({ id: m.id, ok: true, result: {} } satisfies ReplyMessage, () => process.exit(0));
        return;
      }
      let reply: ReplyMessage;
      const handler = handlers[m.method];
      try {
        if (!handler) throw new Error(`no handler "${m.method}"`);
        reply = { id: m.id, ok: true, result: await handler(m.params as never) };
      } catch (e) {
        reply = { id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      }
      process.send?.(reply);
    })();
  });
}
