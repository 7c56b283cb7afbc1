// Real proxyless gRPC xDS clients for the integration tests. Each XdsClientProcess is a
// child process (xds-client-main.ts) with its own bootstrap: grpc-js-xds reads its bootstrap
// once per process, so a child per client is what lets several node ids, server ports and
// restarts coexist in one test run. The parent sends commands over stdin and reads JSON
// lines back; the child exits when its stdin closes, and `close()` kills it otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallCounts, ClientCommand } from './xds-client-protocol.ts';

/** The child's stderr kept for error messages (the newest part), in characters. */
const MAX_STDERR_CHARS = 4 * 1024 * 1024;

const MAIN = fileURLToPath(new URL('./xds-client-main.ts', import.meta.url));

/** Distributive Omit: keeps the union of commands a union. */
type CommandBody = ClientCommand extends infer C ? (C extends ClientCommand ? Omit<C, 'id'> : never) : never;

export interface XdsBootstrapOptions {
  /** Port of the xDS server on 127.0.0.1. */
  xdsPort: number;
  nodeId: string;
  /** Locality of the client node (grpc-js-xds requires the field). */
  region?: string;
}

/** The bootstrap JSON grpc-js-xds reads from GRPC_XDS_BOOTSTRAP_CONFIG. */
export function xdsBootstrap(options: XdsBootstrapOptions): string {
  return JSON.stringify({
    xds_servers: [
      { server_uri: `127.0.0.1:${options.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: options.nodeId, locality: options.region ? { region: options.region } : {} },
  });
}

export interface XdsClientOptions extends XdsBootstrapOptions {
  /** The host the channel targets: `xds:///<host>`. */
  host: string;
  /** Another target instead (e.g. `ipv4:127.0.0.2:5000`), to test the harness without xDS. */
  target?: string;
  /** Extra environment for the child, e.g. `{ GRPC_TRACE: 'xds_client', GRPC_VERBOSITY: 'DEBUG' }`. */
  env?: Record<string, string>;
}

export interface LoadOptions {
  /** Concurrent RPC loops (default 4). */
  concurrency?: number;
  /** Pause after each RPC in a loop, to keep a 2-core machine responsive (default 2 ms). */
  pauseMs?: number;
  /** Deadline of each RPC (default 5 s). */
  deadlineMs?: number;
}

type Reply = { id?: number; counts?: CallCounts; error?: string; ready?: boolean };

/** One grpc-js-xds client in its own process. */
export class XdsClientProcess {
  readonly nodeId: string;
  readonly host: string;
  /** The newest part of the child's stderr (grpc-js logs and traces go there). */
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #nextId = 1;
  #stderrChars = 0;
  #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  private constructor(options: XdsClientOptions) {
    this.nodeId = options.nodeId;
    this.host = options.host;
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_OPTIONS: undefined,
      GRPC_XDS_BOOTSTRAP: undefined,
      GRPC_XDS_BOOTSTRAP_CONFIG: xdsBootstrap(options),
      ...options.env,
    };
    this.#child = spawn(process.execPath, [MAIN, options.target ?? `xds:///${options.host}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdin!.on('error', () => undefined); // EPIPE after the child died: `exited` reports it
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      this.#stderrChars += chunk.length;
      while (this.#stderrChars > MAX_STDERR_CHARS && this.stderr.length > 1) this.#stderrChars -= this.stderr.shift()!.length;
    });
    this.#exited = new Promise((resolve) => {
      const failAll = (why: string): void => {
        const error = new Error(`xDS client ${this.nodeId} ${why}; stderr: ${this.#stderrTail()}`);
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
        resolve();
      };
      this.#child.once('exit', (code, signal) => failAll(`exited (${code ?? signal})`));
      this.#child.once('error', (e) => failAll(`failed to start: ${e.message}`));
    });
  }

  #stderrTail(): string {
    return this.stderr.join('').slice(-3000);
  }

  /** Starts the child and waits until it has loaded grpc-js-xds (not until it has config). */
  static async start(options: XdsClientOptions): Promise<XdsClientProcess> {
    const client = new XdsClientProcess(options);
    const ready = new Promise<void>((resolve, reject) => {
      client.#pending.set(0, { resolve: () => resolve(), reject });
    });
    client.#readLines();
    try {
      await withTimeout(ready, 20_000, `xDS client ${options.nodeId} to start`);
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  #readLines(): void {
    let buffered = '';
    this.#child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let reply: Reply;
        try {
          reply = JSON.parse(text) as Reply;
        } catch {
          continue;
        }
        const id = reply.ready ? 0 : reply.id;
        if (id === undefined) continue;
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        if (!pending) continue;
        if (reply.error) pending.reject(new Error(`xDS client ${this.nodeId}: ${reply.error}`));
        else pending.resolve(reply);
      }
    });
  }

  #request(body: CommandBody, timeoutMs = 60_000): Promise<Reply> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
      return Promise.reject(new Error(`xDS client ${this.nodeId} is not running; stderr: ${this.#stderrTail()}`));
    }
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#child.stdin!.write(`${JSON.stringify({ ...body, id })}\n`);
    return withTimeout(reply, timeoutMs, `xDS client ${this.nodeId} to answer ${body.op}`);
  }

  /** Sends `n` RPCs, `concurrency` at a time, and counts their outcomes. */
  async burst(n: number, options: { concurrency?: number; deadlineMs?: number } = {}): Promise<CallCounts> {
    const reply = await this.#request({ op: 'burst', n, concurrency: options.concurrency ?? 16, deadlineMs: options.deadlineMs ?? 5_000 });
    return reply.counts!;
  }

  /**
   * Sends small bursts until `accept` holds for one (by default: every RPC of it succeeded),
   * and returns that burst's counts. Use it to wait until the client has (new) config.
   */
  async waitUntil(accept: (c: CallCounts) => boolean = (c) => c.failed === 0 && c.ok > 0, timeoutMs = 20_000, what = 'traffic to flow'): Promise<CallCounts> {
    const deadline = Date.now() + timeoutMs;
    let last: CallCounts | undefined;
    for (;;) {
      last = await this.burst(20, { concurrency: 4, deadlineMs: 2_000 });
      if (accept(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`xDS client ${this.nodeId}: timed out waiting for ${what}; last burst ${JSON.stringify(last)}; stderr: ${this.#stderrTail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts a steady load in the background; read it with `snapshot()` and end it with `stopLoad()`. */
  async startLoad(options: LoadOptions = {}): Promise<void> {
    await this.#request({ op: 'load', concurrency: options.concurrency ?? 4, pauseMs: options.pauseMs ?? 2, deadlineMs: options.deadlineMs ?? 5_000 });
  }

  /** Cumulative counts of the running load. */
  async snapshot(): Promise<CallCounts> {
    return (await this.#request({ op: 'snapshot' })).counts!;
  }

  /**
   * Waits until the running load has completed `n` more RPCs than `since` (a snapshot of
   * it; by default its start) and returns the snapshot that shows it.
   */
  async loadUntil(n: number, since?: CallCounts, timeoutMs = 60_000): Promise<CallCounts> {
    const base = since ? since.ok + since.failed : 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.snapshot();
      if (now.ok + now.failed - base >= n) return now;
      if (Date.now() > deadline) throw new Error(`xDS client ${this.nodeId}: load did not reach ${n} RPCs: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the load, waits for its RPCs in flight, and returns its cumulative counts. */
  async stopLoad(): Promise<CallCounts> {
    return (await this.#request({ op: 'stopLoad' })).counts!;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Ends the child (stdin close, then SIGKILL after a grace period). Idempotent. */
  async close(): Promise<void> {
    if (this.running) {
      this.#child.stdin!.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
