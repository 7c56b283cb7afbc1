// Watches on the local API server through client-node's Watch: initial ADDED events,
// replay from a resourceVersion, bookmarks, 410 Expired past the history window, selectors
// (an object leaving the selector is DELETED), finalizer deletion, timeouts and shutdown.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Watch } from '@kubernetes/client-node';
import { adaptiveRoute, GROUP, patchOptions, routeRef, startLocal, VERSION } from '../../support/local-api-server.ts';
import type { LocalHarness } from '../../support/local-api-server.ts';

type WatchQuery = Record<string, string | number | boolean | undefined>;

interface Seen {
  type: string;
  object: { metadata: Record<string, unknown>; [k: string]: unknown };
}

/** A running watch that records its events. */
class Recorder {
  readonly events: Seen[] = [];
  ended: Promise<unknown>;
  controller?: AbortController;
  #end!: (e: unknown) => void;

  constructor() {
    this.ended = new Promise((r) => (this.#end = r));
  }

  static async start(h: LocalHarness, path: string, query: WatchQuery): Promise<Recorder> {
    const r = new Recorder();
    r.controller = await new Watch(h.kubeConfig).watch(
      path,
      query,
      (type, object) => r.events.push({ type, object: object as Seen['object'] }),
      (err) => r.#end(err ?? 'ended'),
    );
    return r;
  }

  /** Waits until `n` events (matching `pred`) arrived. */
  async waitFor(pred: (events: Seen[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (Date.now() > deadline) throw new Error(`watch did not see the expected events; saw ${JSON.stringify(this.events.map((e) => [e.type, e.object.metadata?.name]))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  summary(): [string, unknown][] {
    return this.events.map((e) => [e.type, e.object.metadata?.name]);
  }

  stop(): void {
    this.controller?.abort();
  }
}

const PATH = (ns: string) => `/apis/${GROUP}/${VERSION}/namespaces/${ns}/adaptiveroutes`;
const recorders: Recorder[] = [];
async function watch(h: LocalHarness, path: string, query: WatchQuery): Promise<Recorder> {
  const r = await Recorder.start(h, path, query);
  recorders.push(r);
  return r;
}

afterEach(() => {
  for (const r of recorders.splice(0)) r.stop();
});

describe('LocalApiServer watch', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startLocal({ bookmarkIntervalMs: 100 });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function create(name: string, metadata: Record<string, unknown> = {}): Promise<Seen['object']> {
    return (await h.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute(name, 'default', {}, metadata) })) as Seen['object'];
  }

  it('starts with ADDED for existing objects when no resourceVersion is given, then streams changes', async () => {
    await create('w-existing');
    const r = await watch(h, PATH('default'), { labelSelector: '!skip' });
    await r.waitFor((e) => e.some((x) => x.object.metadata.name === 'w-existing'));
    expect(r.events[0]?.type).toBe('ADDED');
    await create('w-live');
    await r.waitFor((e) => e.some((x) => x.type === 'ADDED' && x.object.metadata.name === 'w-live'));
  });

  it('replays every change after a resourceVersion, in order, then goes live', async () => {
    const a = await create('w-replay-a');
    const from = a.metadata.resourceVersion as string;
    await create('w-replay-b');
    await h.custom.patchNamespacedCustomObject({ ...routeRef('default', 'w-replay-a'), body: { metadata: { labels: { step: '2' } } } }, patchOptions('merge'));
    await h.custom.deleteNamespacedCustomObject(routeRef('default', 'w-replay-b'));
    const r = await watch(h, PATH('default'), { resourceVersion: from, fieldSelector: 'metadata.name!=w-existing' });
    await r.waitFor((e) => e.length >= 3);
    expect(r.summary().slice(0, 3)).toEqual([
      ['ADDED', 'w-replay-b'],
      ['MODIFIED', 'w-replay-a'],
      ['DELETED', 'w-replay-b'],
    ]);
    const rvs = r.events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
    expect(rvs[0]).toBeGreaterThan(Number(from));
    await create('w-replay-c');
    await r.waitFor((e) => e.some((x) => x.object.metadata.name === 'w-replay-c'));
  });

  it('sends BOOKMARKs that carry only the current resourceVersion when asked to', async () => {
    const r = await watch(h, PATH('default'), { resourceVersion: String(h.server.resourceVersion), allowWatchBookmarks: true });
    await r.waitFor((e) => e.some((x) => x.type === 'BOOKMARK'));
    const bookmark = r.events.find((x) => x.type === 'BOOKMARK')!;
    expect(bookmark.object).toEqual({ kind: 'AdaptiveRoute', apiVersion: `${GROUP}/${VERSION}`, metadata: { resourceVersion: String(h.server.resourceVersion) } });
    const plain = await watch(h, PATH('default'), { resourceVersion: String(h.server.resourceVersion) });
    await new Promise((res) => setTimeout(res, 300));
    expect(plain.events.filter((x) => x.type === 'BOOKMARK')).toEqual([]);
  });

  it('sends an object that stops matching the label selector as DELETED, and ADDED when it matches again', async () => {
    await create('w-sel', { labels: { tier: 'gold' } });
    const r = await watch(h, PATH('default'), { labelSelector: 'tier in (gold)', resourceVersion: String(h.server.resourceVersion) });
    await h.custom.patchNamespacedCustomObject({ ...routeRef('default', 'w-sel'), body: { metadata: { labels: { tier: 'bronze' } } } }, patchOptions('merge'));
    await h.custom.patchNamespacedCustomObject({ ...routeRef('default', 'w-sel'), body: { metadata: { labels: { tier: 'gold' } } } }, patchOptions('merge'));
    await r.waitFor((e) => e.length >= 2);
    expect(r.summary()).toEqual([
      ['DELETED', 'w-sel'],
      ['ADDED', 'w-sel'],
    ]);
  });

  it('shows a delete held by a finalizer as MODIFIED with deletionTimestamp, then DELETED when it is released', async () => {
    await create('w-fin', { finalizers: ['meshpilot.io/cleanup'] });
    const r = await watch(h, PATH('default'), { fieldSelector: 'metadata.name=w-fin', resourceVersion: String(h.server.resourceVersion) });
    await h.custom.deleteNamespacedCustomObject(routeRef('default', 'w-fin'));
    await h.custom.patchNamespacedCustomObject({ ...routeRef('default', 'w-fin'), body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    await r.waitFor((e) => e.length >= 2);
    expect(r.summary()).toEqual([
      ['MODIFIED', 'w-fin'],
      ['DELETED', 'w-fin'],
    ]);
    expect(r.events[0]?.object.metadata.deletionTimestamp).toBeDefined();
  });

  it('watches across namespaces and honours timeoutSeconds', async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'w-other' } } });
    const started = Date.now();
    const r = await watch(h, `/apis/${GROUP}/${VERSION}/adaptiveroutes`, { resourceVersion: String(h.server.resourceVersion), timeoutSeconds: 1 });
    await h.custom.createNamespacedCustomObject({ ...routeRef('w-other'), body: adaptiveRoute('w-far', 'w-other') });
    await r.waitFor((e) => e.some((x) => x.object.metadata.namespace === 'w-other'));
    await r.ended;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('LocalApiServer watch history window', () => {
  let h: LocalHarness;
  beforeAll(async () => {
    h = await startLocal({ watchHistory: 3 });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('answers a resourceVersion older than the history with an ERROR event carrying 410 Expired', async () => {
    const first = (await h.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute('old-0', 'default') })) as Seen['object'];
    for (let i = 1; i <= 5; i++) await h.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute(`old-${i}`, 'default') });
    const r = await watch(h, PATH('default'), { resourceVersion: String(first.metadata.resourceVersion) });
    await r.waitFor((e) => e.length >= 1);
    expect(r.events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 } });
    expect(String(r.events[0]?.object.message)).toContain('too old resource version');
    await r.ended;
    // A resourceVersion inside the window still replays.
    const recent = await watch(h, PATH('default'), { resourceVersion: String(h.server.resourceVersion - 2) });
    await recent.waitFor((e) => e.length >= 2);
    expect(recent.summary()).toEqual([
      ['ADDED', 'old-4'],
      ['ADDED', 'old-5'],
    ]);
  });
});

describe('LocalApiServer shutdown', () => {
  it('ends open watches when it closes', async () => {
    const h = await startLocal();
    try {
      const r = await watch(h, PATH('default'), {});
      await h.server.close();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('watch still open')), 3000)));
      await expect(Promise.race([r.ended, deadline]).finally(() => clearTimeout(timer))).resolves.toBeDefined();
    } finally {
      await h.dispose();
    }
  });
});
