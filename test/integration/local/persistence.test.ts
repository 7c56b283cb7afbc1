// Durability of the local API server's state directory: restarts keep every object with its
// uid, generation and resourceVersion; the resourceVersion never goes backwards; a watch
// from before a restart replays or gets 410; a torn log record is tolerated; SIGKILL of the
// standalone process loses no acknowledged write; one state directory, one server.
import { appendFileSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Watch } from '@kubernetes/client-node';
import { JsonLinesChild, nodeBinary } from '../../support/child.ts';
import { adaptiveRoute, clientsFor, CRD_DIR, GROUP, patchOptions, REPO_ROOT, routeRef, startLocal, tempStateDir, VERSION } from '../../support/local-api-server.ts';
import type { LocalHarness } from '../../support/local-api-server.ts';
import { LocalApiServer } from '../../../operator/local/server.ts';

type Obj = { metadata: Record<string, unknown>; spec?: Record<string, unknown> };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(options: Parameters<typeof startLocal>[0]): Promise<LocalHarness> {
  const h = await startLocal(options);
  cleanups.push(() => h.server.close());
  return h;
}

async function stateDir(): Promise<string> {
  const dir = await tempStateDir('persist');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function watchEvents(h: LocalHarness, resourceVersion: string, count: number): Promise<{ type: string; object: Obj }[]> {
  const events: { type: string; object: Obj }[] = [];
  let controller: AbortController | undefined;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`saw only ${JSON.stringify(events.map((e) => e.type))}`)), 5000);
      void new Watch(h.kubeConfig)
        .watch(
          `/apis/${GROUP}/${VERSION}/namespaces/default/adaptiveroutes`,
          { resourceVersion },
          (type, object) => {
            events.push({ type, object: object as Obj });
            if (events.length >= count) {
              clearTimeout(timer);
              resolve(events);
            }
          },
          () => undefined,
        )
        .then((c) => (controller = c), reject);
    });
  } finally {
    controller?.abort();
  }
}

describe('LocalApiServer persistence', () => {
  it('keeps every object, uid, generation and resourceVersion across close and start, and never reuses a resourceVersion', async () => {
    const dir = await stateDir();
    const first = await started({ stateDir: dir });
    await first.core.createNamespace({ body: { metadata: { name: 'kept' } } });
    const route = (await first.custom.createNamespacedCustomObject({ ...routeRef('kept'), body: adaptiveRoute('r1', 'kept') })) as Obj;
    const bumped = (await first.custom.patchNamespacedCustomObject({ ...routeRef('kept', 'r1'), body: { spec: { policy: { mode: 'shadow' } } } }, patchOptions('merge'))) as Obj;
    const lease = await first.coordination.createNamespacedLease({ namespace: 'kept', body: { metadata: { name: 'l' }, spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } } });
    await first.custom.createNamespacedCustomObject({ ...routeRef('kept'), body: adaptiveRoute('gone', 'kept') });
    await first.custom.deleteNamespacedCustomObject(routeRef('kept', 'gone'));
    const lastRv = first.server.resourceVersion;
    await first.server.close();

    const second = await started({ stateDir: dir });
    expect(second.server.resourceVersion).toBe(lastRv);
    const again = (await second.custom.getNamespacedCustomObject(routeRef('kept', 'r1'))) as Obj;
    expect(again).toEqual(bumped);
    expect(again.metadata.uid).toBe(route.metadata.uid);
    expect(again.metadata.generation).toBe(2);
    expect((await second.coordination.readNamespacedLease({ name: 'l', namespace: 'kept' })).metadata?.resourceVersion).toBe(lease.metadata?.resourceVersion);
    await expect(second.custom.getNamespacedCustomObject(routeRef('kept', 'gone'))).rejects.toMatchObject({ code: 404 });
    const next = (await second.custom.createNamespacedCustomObject({ ...routeRef('kept'), body: adaptiveRoute('r2', 'kept') })) as Obj;
    expect(Number(next.metadata.resourceVersion)).toBe(lastRv + 1);
  });

  it('replays changes to a watch that resumes from a resourceVersion issued before the restart', async () => {
    const dir = await stateDir();
    const first = await started({ stateDir: dir });
    const from = String(first.server.resourceVersion);
    await first.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute('before', 'default') });
    await first.custom.patchNamespacedCustomObject({ ...routeRef('default', 'before'), body: { metadata: { labels: { v: '2' } } } }, patchOptions('merge'));
    await first.server.close();
    const second = await started({ stateDir: dir });
    const events = await watchEvents(second, from, 2);
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.labels])).toEqual([
      ['ADDED', 'before', undefined],
      ['MODIFIED', 'before', { v: '2' }],
    ]);
  });

  it('compacts the log into a snapshot; a watch from before the snapshot gets 410, one after it replays', async () => {
    const dir = await stateDir();
    const first = await started({ stateDir: dir, compactEvery: 4 });
    const early = String(first.server.resourceVersion);
    for (let i = 0; i < 10; i++) await first.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute(`c${i}`, 'default') });
    await first.server.close();
    expect(readFileSync(join(dir, 'snapshot.json'), 'utf8')).toContain('"c0"');
    expect(readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').filter((l) => l !== '').length).toBeLessThan(4);
    const second = await started({ stateDir: dir, compactEvery: 4 });
    const list = (await second.custom.listNamespacedCustomObject(routeRef('default'))) as { items: Obj[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9']);
    const expired = await watchEvents(second, early, 1);
    expect(expired[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    const recent = await watchEvents(second, String(second.server.resourceVersion - 1), 1);
    expect(recent.map((e) => [e.type, e.object.metadata.name])).toEqual([['ADDED', 'c9']]);
  });

  it('loads a state whose last log record was torn by a crash, and keeps writing after it', async () => {
    const dir = await stateDir();
    const first = await started({ stateDir: dir });
    await first.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute('whole', 'default') });
    await first.server.close();
    appendFileSync(join(dir, 'log.jsonl'), '0badc0de {"rv":99,"op":"put","type":"traffic.meshpilot.io/adaptiveroutes","object":{"metadata":{"name":"tor');
    const second = await started({ stateDir: dir });
    await second.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute('after', 'default') });
    await second.server.close();
    const third = await started({ stateDir: dir });
    const list = (await third.custom.listNamespacedCustomObject(routeRef('default'))) as { items: Obj[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['after', 'whole']);
  });

  it('refuses a second server on a locked state directory, and allows it once the first closed', async () => {
    const dir = await stateDir();
    const first = await started({ stateDir: dir });
    await expect(LocalApiServer.start({ stateDir: dir, crdDir: CRD_DIR })).rejects.toThrow(/in use by another local API server/);
    await first.server.close();
    const second = await started({ stateDir: dir });
    expect(second.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('LocalApiServer standalone process', () => {
  const script = join(REPO_ROOT, 'operator/local/run-server.ts');

  async function spawnServer(dir: string, port = 0): Promise<{ child: JsonLinesChild; url: string; kubeconfig: string }> {
    const child = new JsonLinesChild(nodeBinary, [script, '--state-dir', dir, '--port', String(port), '--crd-dir', CRD_DIR, '--log-level', 'warn']);
    cleanups.push(() => child.stop('SIGKILL'));
    const ready = await child.waitForLine((l) => typeof l.url === 'string', 30_000, 'ready line');
    return { child, url: ready.url as string, kubeconfig: ready.kubeconfig as string };
  }

  it('loses no acknowledged write when SIGKILLed in the middle of a burst, and restarts on the same port', async () => {
    const dir = await stateDir();
    const first = await spawnServer(dir);
    const c1 = clientsFor(first.kubeconfig);
    await c1.core.createNamespace({ body: { metadata: { name: 'burst' } } });
    const acknowledged = new Map<string, string>();
    const writes = Array.from({ length: 60 }, (_, i) =>
      c1.custom.createNamespacedCustomObject({ ...routeRef('burst'), body: adaptiveRoute(`b${i}`, 'burst') }).then(
        (o) => acknowledged.set(`b${i}`, (o as Obj).metadata.uid as string),
        () => undefined,
      ),
    );
    while (acknowledged.size < 15) await new Promise((r) => setTimeout(r, 2));
    const killed = await first.child.stop('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    await Promise.all(writes);
    expect(acknowledged.size).toBeGreaterThanOrEqual(15);

    const port = Number(new URL(first.url).port);
    const second = await spawnServer(dir, port);
    expect(second.url).toBe(first.url);
    // The kubeconfig written before the crash still works: same port, token and certificate.
    const c2 = clientsFor(first.kubeconfig);
    const list = (await c2.custom.listNamespacedCustomObject(routeRef('burst'))) as { items: Obj[] };
    const uids = new Map(list.items.map((i) => [i.metadata.name as string, i.metadata.uid as string]));
    for (const [name, uid] of acknowledged) expect(uids.get(name)).toBe(uid);
    const exit = await second.child.stop('SIGTERM');
    expect(exit.code).toBe(0);
  });
});
