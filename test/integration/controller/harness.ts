// Starts the embedded API server (operator/local) in this process for the controller
// integration tests, with a temporary state directory that is removed afterwards, and
// restarts it on the same directory and port to exercise reconnects.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { LocalApiServer, type LocalApiServerOptions } from '../../../operator/local/server.ts';
import { KubeApi, loadKubeConfig } from '../../../operator/kube/client.ts';

export const CRD_DIR = resolve(import.meta.dirname, '../../../crds');

export interface Harness {
  server: LocalApiServer;
  api: KubeApi;
  stateDir: string;
  /** Closes the server and starts it again on the same state directory and port. */
  restart(): Promise<void>;
  /** Closes the server (it stays down until `restart`). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<LocalApiServerOptions> = {}): Promise<Harness> {
  const stateDir = await mkdtemp(join(tmpdir(), 'meshpilot-ctrl-'));
  const start = (port = 0) =>
    LocalApiServer.start({ stateDir, port, crdDir: CRD_DIR, logger: pino({ level: 'silent' }), ...options });
  let server = await start();
  const port = Number(new URL(server.url).port);
  const api = new KubeApi(loadKubeConfig({ kubeconfigPath: server.kubeconfigPath }));
  let down = false;
  const harness: Harness = {
    get server() {
      return server;
    },
    api,
    stateDir,
    async stop() {
      down = true;
      await server.close(100);
    },
    async restart() {
      if (!down) await server.close(100);
      server = await start(port);
      down = false;
    },
    async close() {
      if (!down) await server.close(100);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
