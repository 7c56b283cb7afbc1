// Child process holding a share of the simulated ADS clients (see ads-client.ts), driven by
// xds.bench.ts over IPC: init → connect (clients open their streams, at most `concurrency`
// syncing at once) → for each push: expect(phase) then collect → shutdown.
import { createRequire } from 'node:module';
import { emit, serveWorker } from '../support/workers.ts';
import { ClientContext, SimulatedAdsClient, type ClientEvents } from './ads-client.ts';
import { clientCredentials, type BenchTls } from './bench-tls.ts';
import { expectedWeightKeys, listenerNames, type Change } from './intents.ts';
import { loadEnvoyTypes } from './wire.ts';

const xdsVersion = (createRequire(import.meta.url)('@grpc/grpc-js-xds/package.json') as { version: string }).version;

let ctx: ClientContext | undefined;
let routes = 0;
let change: Change = 'all';
const clients: SimulatedAdsClient[] = [];
const failures: string[] = [];
let onProgress: (() => void) | undefined;
let synced = 0;
let converged = 0;
let cpuAtExpect: NodeJS.CpuUsage | undefined;

const events: ClientEvents = {
  synced: () => {
    synced++;
    onProgress?.();
  },
  converged: () => {
    converged++;
    onProgress?.();
  },
  failed: (c, e) => {
    failures.push(`${c.id}: ${e.message}`);
    onProgress?.();
  },
};

function context(): ClientContext {
  if (!ctx) throw new Error('init first');
  return ctx;
}

/** Resolves when `done()` holds, checked on every client event; rejects after `timeoutMs`. */
function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      try {
        if (!done()) return;
      } catch (e) {
        clearTimeout(timer);
        onProgress = undefined;
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      clearTimeout(timer);
      onProgress = undefined;
      resolve();
    };
    const timer = setTimeout(() => {
      onProgress = undefined;
      reject(new Error(`${what}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    onProgress = check;
    check();
  });
}

serveWorker(
  {
    init(p: { routes: number; change: Change }) {
      routes = p.routes;
      change = p.change;
      ctx = new ClientContext(loadEnvoyTypes(), listenerNames(routes));
      ctx.expected = expectedWeightKeys(routes, 0, change);
      return {};
    },

    async connect(p: { address: string; workerIndex: number; count: number; concurrency: number; timeoutMs: number; tls?: BenchTls }) {
      const c = context();
      const credentials = p.tls ? clientCredentials(p.tls.dir) : undefined;
      const started = performance.now();
      let next = 0;
      const startMore = (): void => {
        const syncing = clients.length - synced;
        for (let n = syncing; n < p.concurrency && next < p.count; n++, next++) {
          const id = `bench-${p.workerIndex}-${next}`;
          const node = c.types.node
            .encode({
              id,
              cluster: 'meshpilot-bench',
              user_agent_name: 'gRPC Node Pure JS',
              user_agent_version: xdsVersion,
              client_features: ['envoy.lb.does_not_support_overprovisioning'],
            })
            .finish();
          const client = new SimulatedAdsClient(id, c, Buffer.from(node), events);
          clients.push(client);
          client.start(p.address, credentials);
        }
      };
      let lastReport = 0;
      await until(
        () => {
          if (failures.length > 0) throw new Error(`client failed during connect: ${failures[0]}`);
          startMore();
          if (synced - lastReport >= Math.max(100, p.count / 5)) {
            lastReport = synced;
            emit('progress', { synced });
          }
          return synced === p.count;
        },
        p.timeoutMs,
        `connecting ${p.count} clients`,
      ).catch((e: unknown) => {
        throw new Error(`${(e as Error).message} (${synced}/${p.count} synced; ${failures.slice(0, 3).join('; ')})`);
      });
      return { syncMs: performance.now() - started, nacks: clients.reduce((s, x) => s + x.nacks, 0) };
    },

    expect(p: { phase: number }) {
      const c = context();
      c.expected = expectedWeightKeys(routes, p.phase, change);
      converged = 0;
      for (const client of clients) client.beginPush();
      cpuAtExpect = process.cpuUsage();
      return {};
    },

    async collect(p: { timeoutMs: number; graceMs: number }) {
      let timedOut = false;
      await until(() => converged + failures.length >= clients.length, p.timeoutMs, 'push').catch(() => {
        timedOut = true;
      });
      const cpu = process.cpuUsage(cpuAtExpect);
      // Responses that trail the convergence (if the server sends any) still count as bytes of this push.
      await new Promise((r) => setTimeout(r, p.graceMs));
      const byType: Record<string, number> = {};
      for (const x of clients) for (const [t, n] of Object.entries(x.responsesByType)) byType[t] = (byType[t] ?? 0) + n;
      return {
        timedOut,
        cpuMs: (cpu.user + cpu.system) / 1000,
        ackMs: clients.map((x) => (x.convergedAtNs === undefined ? null : Number(x.convergedAtNs) / 1e6)),
        bytes: clients.map((x) => x.bytes),
        responses: clients.map((x) => x.responses),
        responsesByType: byType,
        nacks: clients.reduce((s, x) => s + x.nacks, 0),
        failures: failures.slice(0, 5),
        failed: failures.length,
      };
    },
  },
  () => {
    for (const c of clients) c.close();
  },
);
