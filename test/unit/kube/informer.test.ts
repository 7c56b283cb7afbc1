import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { diffRelist, Informer } from '../../../operator/kube/informer.ts';
import { FakeListWatcher, type TestObject } from './fake-list-watcher.ts';

const settle = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** What a handler-driven consumer believes the collection holds: rebuilt only from events. */
function mirror(informer: Informer<TestObject>) {
  const state = new Map<string, string | undefined>();
  const counts = { add: 0, update: 0, delete: 0 };
  informer.addHandler({
    onAdd: (o) => {
      counts.add += 1;
      state.set(o.metadata.name, o.data);
    },
    onUpdate: (_old, o) => {
      counts.update += 1;
      state.set(o.metadata.name, o.data);
    },
    onDelete: (o) => {
      counts.delete += 1;
      state.delete(o.metadata.name);
    },
  });
  return { state, counts };
}

function setup(options: { resyncPeriodMs?: number; random?: () => number } = {}) {
  const clock = new ManualClock();
  const api = new FakeListWatcher(clock);
  const registry = new Registry();
  const informer = new Informer<TestObject>({
    resource: 'things',
    listWatcher: api,
    logger: pino({ level: 'silent' }),
    clock,
    registry,
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    random: options.random ?? (() => 0),
  });
  return { clock, api, registry, informer };
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

describe('diffRelist', () => {
  it('turns a fresh list into the adds, updates and deletes a watch would have sent', () => {
    const obj = (name: string, rv: string): TestObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
    const cache = new Map([
      ['ns/same', obj('same', '1')],
      ['ns/changed', obj('changed', '2')],
      ['ns/gone', obj('gone', '3')],
    ]);
    const diff = diffRelist(cache, [obj('same', '1'), obj('changed', '7'), obj('new', '8')]);
    expect(diff.added.map((o) => o.metadata.name)).toEqual(['new']);
    expect(diff.updated.map((u) => [u.oldObj.metadata.resourceVersion, u.newObj.metadata.resourceVersion])).toEqual([['2', '7']]);
    expect(diff.deleted.map((o) => o.metadata.name)).toEqual(['gone']);
  });
});

describe('Informer', () => {
  it('lists, syncs, then follows adds, updates and deletes into its cache and handlers', async () => {
    const { api, informer } = setup();
    api.upsert('a', 'a1');
    api.upsert('b', 'b1');
    const seen = mirror(informer);
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await informer.waitForSync();
    expect([...seen.state]).toEqual([
      ['a', 'a1'],
      ['b', 'b1'],
    ]);
    api.upsert('a', 'a2');
    api.upsert('c', 'c1');
    api.remove('b');
    await settle();
    expect(Object.fromEntries(seen.state)).toEqual({ a: 'a2', c: 'c1' });
    expect(informer.get('default/a')?.data).toBe('a2');
    expect(informer.get('default/b')).toBeUndefined();
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'c']);
    expect(informer.list('other')).toEqual([]);
    await informer.stop();
    expect(api.activeWatches).toBe(0);
  });

  it.each(['event', 'status'] as const)(
    'relists on 410 Gone (reported as %s) and emits exactly the changes it missed',
    async (goneAs) => {
      const { api, informer, registry, clock } = setup();
      api.goneAs = goneAs;
      api.upsert('keep', 'k');
      api.upsert('change', 'c1');
      api.upsert('drop', 'd');
      const seen = mirror(informer);
      informer.start();
      await informer.waitForSync();
      // The watch breaks; while it is down the collection changes and history is compacted.
      api.failures = 1;
      api.closeWatches();
      api.upsert('change', 'c2');
      api.remove('drop');
      api.upsert('new', 'n');
      api.compact();
      await settle();
      // The failed attempt backs off; the retry hits 410 and relists.
      await clock.advance(1000);
      await settle(20);
      expect(Object.fromEntries(seen.state)).toEqual({ keep: 'k', change: 'c2', new: 'n' });
      expect(seen.counts).toEqual({ add: 4, update: 1, delete: 1 });
      expect(await counterValue(registry, 'meshpilot_informer_relists_total', { resource: 'things' })).toBe(2);
      // After the relist the watch continues: later changes still arrive.
      api.upsert('keep', 'k2');
      await settle();
      expect(seen.state.get('keep')).toBe('k2');
      await informer.stop();
    },
  );

  it('reconnects with exponential backoff and jitter, and resets it after a healthy watch', async () => {
    const { api, informer, clock } = setup({ random: () => 0.5 });
    informer.start();
    await informer.waitForSync();
    await settle();
    api.failures = 4;
    api.closeWatches();
    await settle();
    for (let i = 0; i < 4; i++) {
      await clock.advance(30_000);
      await settle();
    }
    const times = api.watchCalls.map((c) => c.at);
    const gaps = times.slice(2).map((t, i) => t - (times[i + 1] ?? 0));
    // 800 ms doubling, each stretched by jitter 0.2 × random 0.5 = 10 %.
    expect(gaps).toEqual([880, 1760, 3520, 7040]);
    // The watch that finally connected resumed from the last version: no relist needed.
    expect(api.listCalls).toBe(1);
    // A healthy watch that the server closes resets the backoff.
    api.closeWatches();
    await settle();
    api.failures = 1;
    api.closeWatches();
    await settle();
    const before = api.watchCalls.length;
    await clock.advance(880);
    await settle();
    expect(api.watchCalls.length).toBe(before + 1);
    await informer.stop();
  });

  it('continues from the version of the last bookmark', async () => {
    const { api, informer } = setup();
    api.upsert('a', '1');
    informer.start();
    await informer.waitForSync();
    await settle();
    // Changes to other objects would be filtered from a real watch; here the bookmark stands for them.
    api.upsert('b', '2');
    await settle();
    api.bookmark();
    await settle();
    api.closeWatches();
    await settle();
    expect(api.watchCalls.at(-1)?.from).toBe(informer.resourceVersion);
    expect(informer.resourceVersion).toBe('3');
    await informer.stop();
  });

  it('re-emits every cached object as an update on each resync period', async () => {
    const { api, informer, clock } = setup({ resyncPeriodMs: 60_000 });
    api.upsert('a', '1');
    api.upsert('b', '1');
    const seen = mirror(informer);
    informer.start();
    await informer.waitForSync();
    await clock.advance(59_999);
    expect(seen.counts.update).toBe(0);
    await clock.advance(1);
    expect(seen.counts.update).toBe(2);
    await clock.advance(60_000);
    expect(seen.counts.update).toBe(4);
    await informer.stop();
  });

  it('keeps going when a handler throws', async () => {
    const { api, informer } = setup();
    informer.addHandler({
      onAdd: () => {
        throw new Error('bug in handler');
      },
    });
    const seen = mirror(informer);
    informer.start();
    api.upsert('a', '1');
    await informer.waitForSync();
    api.upsert('b', '1');
    await settle();
    expect([...seen.state.keys()].sort()).toEqual(['a', 'b']);
    await informer.stop();
  });

  it('gives a late handler the current state as adds', async () => {
    const { api, informer } = setup();
    api.upsert('a', '1');
    informer.start();
    await informer.waitForSync();
    const seen = mirror(informer);
    expect([...seen.state.keys()]).toEqual(['a']);
    await informer.stop();
  });
});

