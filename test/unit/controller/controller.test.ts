import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { ERROR_CODES, MeshpilotError } from '../../../operator/base/errors.ts';
import { Controller, type Reconciler } from '../../../operator/controller/controller.ts';
import { Informer } from '../../../operator/kube/informer.ts';
import { FakeListWatcher, type TestObject } from '../kube/fake-list-watcher.ts';

const settle = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A reconciler whose "world" is a copy of each object's data; failures are scripted per key. */
class CopyReconciler implements Reconciler {
  readonly world = new Map<string, string>();
  readonly failures = new Map<string, { count: number; retriable: boolean }>();
  readonly passes = new Map<string, number>();
  requeueAfterMs: number | undefined;
  #informer: Informer<TestObject>;

  constructor(informer: Informer<TestObject>) {
    this.#informer = informer;
  }

  async reconcile(key: string) {
    this.passes.set(key, (this.passes.get(key) ?? 0) + 1);
    const failure = this.failures.get(key);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      throw new MeshpilotError(ERROR_CODES.API_UNAVAILABLE, 'scripted failure', { retriable: failure.retriable });
    }
    const obj = this.#informer.get(key);
    if (obj) this.world.set(key, obj.data ?? '');
    else this.world.delete(key);
    return this.requeueAfterMs === undefined ? {} : { requeueAfterMs: this.requeueAfterMs };
  }
}

function setup() {
  const clock = new ManualClock();
  const api = new FakeListWatcher(clock);
  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  const informer = new Informer<TestObject>({ resource: 'things', listWatcher: api, logger, clock, resyncPeriodMs: 0 });
  const reconciler = new CopyReconciler(informer);
  const controller = new Controller({ name: 'things', reconciler, logger, clock, registry, workers: 2 });
  controller.watch(informer);
  const stop = new AbortController();
  return { clock, api, registry, informer, reconciler, controller, stop };
}

async function resultCount(registry: Registry, result: string): Promise<number> {
  const values = (await registry.getSingleMetric('meshpilot_reconcile_total')!.get()).values;
  return values.find((v) => v.labels.result === result && v.labels.controller === 'things')?.value ?? 0;
}

describe('Controller', () => {
  it('reconciles every existing object on start and then every change', async () => {
    const { api, informer, reconciler, controller, stop } = setup();
    api.upsert('a', 'a1');
    api.upsert('b', 'b1');
    informer.start();
    const running = controller.run(stop.signal);
    await settle();
    expect(Object.fromEntries(reconciler.world)).toEqual({ 'default/a': 'a1', 'default/b': 'b1' });
    api.upsert('a', 'a2');
    api.remove('b');
    await settle();
    expect(Object.fromEntries(reconciler.world)).toEqual({ 'default/a': 'a2' });
    stop.abort();
    await running;
    await informer.stop();
  });

  it('retries a retriable failure with backoff until it succeeds', async () => {
    const { api, informer, reconciler, controller, stop, clock, registry } = setup();
    reconciler.failures.set('default/a', { count: 3, retriable: true });
    api.upsert('a', 'a1');
    informer.start();
    const running = controller.run(stop.signal);
    await settle();
    expect(reconciler.world.has('default/a')).toBe(false);
    // Backoff 5 + 10 + 20 ms.
    await clock.advance(34);
    await settle();
    expect(reconciler.world.has('default/a')).toBe(false);
    await clock.advance(1);
    await settle();
    expect(reconciler.world.get('default/a')).toBe('a1');
    expect(await resultCount(registry, 'error')).toBe(3);
    expect(await resultCount(registry, 'success')).toBe(1);
    stop.abort();
    await running;
    await informer.stop();
  });

  it('does not retry a terminal failure, but reconciles again when the object changes', async () => {
    const { api, informer, reconciler, controller, stop, clock } = setup();
    reconciler.failures.set('default/a', { count: 1, retriable: false });
    api.upsert('a', 'a1');
    informer.start();
    const running = controller.run(stop.signal);
    await settle();
    await clock.advance(60_000);
    await settle();
    expect(reconciler.passes.get('default/a')).toBe(1);
    expect(reconciler.world.has('default/a')).toBe(false);
    api.upsert('a', 'a2');
    await settle();
    expect(reconciler.world.get('default/a')).toBe('a2');
    stop.abort();
    await running;
    await informer.stop();
  });

  it('reconciles again after the delay a reconcile asked for', async () => {
    const { api, informer, reconciler, controller, stop, clock, registry } = setup();
    reconciler.requeueAfterMs = 30_000;
    api.upsert('a', 'a1');
    informer.start();
    const running = controller.run(stop.signal);
    await settle();
    expect(reconciler.passes.get('default/a')).toBe(1);
    await clock.advance(29_999);
    await settle();
    expect(reconciler.passes.get('default/a')).toBe(1);
    await clock.advance(1);
    await settle();
    expect(reconciler.passes.get('default/a')).toBe(2);
    expect(await resultCount(registry, 'requeue')).toBe(2);
    stop.abort();
    await running;
    await informer.stop();
  });

  it('enqueues the keys a mapping derives from related objects', async () => {
    const { clock, api, informer, reconciler, controller, stop } = setup();
    const related = new FakeListWatcher(clock);
    const relatedInformer = new Informer<TestObject>({
      resource: 'related',
      listWatcher: related,
      logger: pino({ level: 'silent' }),
      clock,
      resyncPeriodMs: 0,
    });
    // A related object named "x" stands for the thing named in its data.
    controller.watch(relatedInformer, (obj) => (obj.data ? [`default/${obj.data}`] : []));
    api.upsert('a', 'a1');
    informer.start();
    relatedInformer.start();
    const running = controller.run(stop.signal);
    await settle();
    const before = reconciler.passes.get('default/a');
    related.upsert('x', 'a');
    await settle();
    expect(reconciler.passes.get('default/a')).toBe((before ?? 0) + 1);
    stop.abort();
    await running;
    await Promise.all([informer.stop(), relatedInformer.stop()]);
  });

  it('on stop lets a reconcile in progress finish and can run again', async () => {
    const { api, informer, controller, stop, clock } = setup();
    let release: () => void = () => undefined;
    let finished = false;
    const slow = new Controller({
      name: 'slow',
      logger: pino({ level: 'silent' }),
      clock,
      reconciler: {
        reconcile: () =>
          new Promise<void>((resolve) => {
            release = () => {
              finished = true;
              resolve();
            };
          }),
      },
    });
    slow.watch(informer);
    api.upsert('a', 'a1');
    informer.start();
    const running = slow.run(stop.signal);
    await settle();
    stop.abort();
    let stopped = false;
    void running.then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    release();
    await running;
    expect(finished).toBe(true);
    const again = new AbortController();
    const rerun = slow.run(again.signal);
    await settle();
    expect(slow.running).toBe(true);
    again.abort();
    release();
    await rerun;
    expect(controller.running).toBe(false);
    await informer.stop();
  });
});
