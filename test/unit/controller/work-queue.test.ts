import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { WorkQueue } from '../../../operator/controller/work-queue.ts';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

async function metricValue(registry: Registry, name: string, queue: string): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = (metric?.values as { value: number; labels: Record<string, string>; metricName?: string }[] | undefined)?.find(
    (v) => v.labels.name === queue && (v.metricName === undefined || v.metricName === name),
  );
  return sample?.value;
}

describe('WorkQueue', () => {
  it('queues a key at most once while it waits', async () => {
    const q = new WorkQueue({ name: 't', clock: new ManualClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('runs a key once more when it is re-added during processing', async () => {
    const q = new WorkQueue({ name: 't', clock: new ManualClock() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.add('a');
    // Not handed out while the first worker holds it.
    expect(q.len()).toBe(0);
    q.done(key!);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('never hands one key to two workers at once', async () => {
    const q = new WorkQueue({ name: 't', clock: new ManualClock() });
    const active = new Set<string>();
    let overlaps = 0;
    const processed: string[] = [];
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (active.has(key)) overlaps += 1;
        active.add(key);
        await settle();
        processed.push(key);
        active.delete(key);
        q.done(key);
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    for (let i = 0; i < 50; i++) {
      q.add(`k${i % 3}`);
      await settle();
    }
    while (q.len() > 0 || q.longestRunningMs() > 0 || active.size > 0) await settle();
    await q.drain();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(new Set(processed)).toEqual(new Set(['k0', 'k1', 'k2']));
  });

  it('backs off exponentially per key, caps the delay, and forget resets it', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ name: 't', clock, baseDelayMs: 5, maxDelayMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = clock.now();
      q.addRateLimited('a');
      // Find when it becomes ready by stepping 1 ms at a time.
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - before);
      q.done((await q.get())!);
    }
    expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(10);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    const before = clock.now();
    q.addRateLimited('a');
    while (q.len() === 0) await clock.advance(1);
    expect(clock.now() - before).toBe(5);
  });

  it('keeps separate backoff per key', () => {
    const q = new WorkQueue({ name: 't', clock: new ManualClock() });
    q.addRateLimited('a');
    q.addRateLimited('a');
    q.addRateLimited('b');
    expect(q.numRequeues('a')).toBe(2);
    expect(q.numRequeues('b')).toBe(1);
  });

  it('adds a key after a delay on the injected clock, the earliest pending delay winning', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ name: 't', clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    await clock.advance(10_000);
    // The superseded delays do not add it again.
    expect(q.len()).toBe(0);
  });

  it('on shutdown releases waiting workers, drops queued keys and lets in-flight work finish', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ name: 't', clock });
    q.add('busy');
    const held = await q.get();
    const waiting = q.get();
    await settle();
    q.add('queued');
    // 'queued' went straight to the waiting worker; add another that stays queued.
    expect(await waiting).toBe('queued');
    q.add('left');
    q.addAfter('late', 100);
    let drained = false;
    const drain = q.drain().then(() => {
      drained = true;
    });
    expect(await q.get()).toBeUndefined();
    q.add('after');
    expect(q.len()).toBe(0);
    await settle();
    expect(drained).toBe(false);
    q.done(held!);
    q.done('queued');
    await drain;
    expect(drained).toBe(true);
    await clock.advance(1000);
    expect(q.len()).toBe(0);
  });

  it('reports depth, adds, retries and the longest running processor', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const q = new WorkQueue({ name: 'routes', clock, registry });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(await metricValue(registry, 'meshpilot_workqueue_depth', 'routes')).toBe(2);
    expect(await metricValue(registry, 'meshpilot_workqueue_adds_total', 'routes')).toBe(2);
    await q.get();
    await clock.advance(1500);
    expect(await metricValue(registry, 'meshpilot_workqueue_longest_running_processor_seconds', 'routes')).toBe(1.5);
    q.done('a');
    q.addRateLimited('a');
    expect(await metricValue(registry, 'meshpilot_workqueue_retries_total', 'routes')).toBe(1);
    // A second queue on the same registry shares the families under its own label.
    const other = new WorkQueue({ name: 'plans', clock, registry });
    other.add('x');
    expect(await metricValue(registry, 'meshpilot_workqueue_depth', 'plans')).toBe(1);
    expect(await metricValue(registry, 'meshpilot_workqueue_depth', 'routes')).toBe(1);
  });
});
