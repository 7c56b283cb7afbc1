// The informer against the real embedded API server: events, reconnect across a server
// restart on the same state directory, and relist after 410 Gone.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { ADAPTIVE_ROUTES } from '../../../operator/adaptive-route/resource.ts';
import { Informer } from '../../../operator/kube/informer.ts';
import { eventually, startHarness, type Harness } from './harness.ts';

const NS = 'default';

function route(name: string, weight = 1): AdaptiveRoute {
  return {
    apiVersion: 'traffic.meshpilot.io/v1alpha1',
    kind: 'AdaptiveRoute',
    metadata: { name, namespace: NS },
    spec: {
      host: `${name}.example`,
      destinations: [{ region: 'eu-west', service: `${name}.svc`, port: 8080, weight }],
    },
  } as unknown as AdaptiveRoute;
}

/** What a consumer that only sees handler calls believes: name → first destination weight. */
function mirror(informer: Informer<AdaptiveRoute>) {
  const state = new Map<string, number>();
  informer.addHandler({
    onAdd: (r) => state.set(r.metadata.name, r.spec.destinations[0]!.weight),
    onUpdate: (_o, r) => state.set(r.metadata.name, r.spec.destinations[0]!.weight),
    onDelete: (r) => state.delete(r.metadata.name),
  });
  return state;
}

async function setWeight(h: Harness, name: string, weight: number) {
  const current = (await h.api.get<AdaptiveRoute>(ADAPTIVE_ROUTES, NS, name))!;
  current.spec.destinations[0]!.weight = weight;
  await h.api.replace(ADAPTIVE_ROUTES, current);
}

const stateOf = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

describe('Informer against the local API server', () => {
  let h: Harness;
  let informer: Informer<AdaptiveRoute> | undefined;
  const registry = new Registry();

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await h?.close();
  });

  it('sees adds, updates and deletes', async () => {
    h = await startHarness();
    await h.api.create(ADAPTIVE_ROUTES, route('a'));
    informer = new Informer<AdaptiveRoute>({
      resource: 'adaptiveroutes',
      listWatcher: h.api.listWatcher(ADAPTIVE_ROUTES, NS),
      logger: pino({ level: 'silent' }),
    });
    const seen = mirror(informer);
    informer.start();
    await informer.waitForSync();
    expect(stateOf(seen)).toEqual({ a: 1 });
    await h.api.create(ADAPTIVE_ROUTES, route('b', 2));
    await setWeight(h, 'a', 5);
    await h.api.delete(ADAPTIVE_ROUTES, NS, 'b');
    await h.api.create(ADAPTIVE_ROUTES, route('c', 3));
    await eventually(() => (JSON.stringify(stateOf(seen)) === JSON.stringify({ a: 5, c: 3 }) ? true : undefined), 'informer to follow changes');
    expect(informer.get(`${NS}/a`)?.spec.destinations[0]?.weight).toBe(5);
    expect(informer.get(`${NS}/b`)).toBeUndefined();
  });

  it('reconnects after the server restarts, and relists when its version has expired', async () => {
    h = await startHarness({ watchHistory: 3 });
    await h.api.create(ADAPTIVE_ROUTES, route('a'));
    await h.api.create(ADAPTIVE_ROUTES, route('b'));
    informer = new Informer<AdaptiveRoute>({
      resource: 'adaptiveroutes-restart',
      listWatcher: h.api.listWatcher(ADAPTIVE_ROUTES, NS),
      logger: pino({ level: 'silent' }),
      registry,
      // Long enough that the changes below all happen before the informer comes back.
      backoff: { initialMs: 1500, maxMs: 3000, jitter: 0 },
    });
    const seen = mirror(informer);
    informer.start();
    await informer.waitForSync();
    await h.stop();
    await new Promise((r) => setTimeout(r, 200));
    await h.restart();
    // More changes than the server's watch history holds: resuming must fail with 410.
    await h.api.delete(ADAPTIVE_ROUTES, NS, 'a');
    await setWeight(h, 'b', 7);
    for (const name of ['c', 'd', 'e', 'f']) await h.api.create(ADAPTIVE_ROUTES, route(name, 2));
    await eventually(
      () => (JSON.stringify(stateOf(seen)) === JSON.stringify({ b: 7, c: 2, d: 2, e: 2, f: 2 }) ? true : undefined),
      'informer to catch up after the restart',
    );
    const metric = await registry.getSingleMetric('meshpilot_informer_relists_total')!.get();
    expect(metric.values.find((v) => v.labels.resource === 'adaptiveroutes-restart')?.value).toBeGreaterThanOrEqual(2);
    // And it keeps watching afterwards.
    await setWeight(h, 'c', 9);
    await eventually(() => (seen.get('c') === 9 ? true : undefined), 'a change after the relist');
  });
});
