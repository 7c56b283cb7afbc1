import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { KubeApiError } from '../../../operator/kube/api-error.ts';
import { EventRecorder, type CoreEvent, type EventStore } from '../../../operator/kube/events.ts';

class MemoryEventStore implements EventStore {
  readonly events = new Map<string, CoreEvent>();
  down = false;

  async create(namespace: string, event: CoreEvent): Promise<CoreEvent> {
    if (this.down) throw new KubeApiError(503, 'unavailable');
    const key = `${namespace}/${event.metadata.name}`;
    if (this.events.has(key)) throw new KubeApiError(409, 'exists');
    this.events.set(key, structuredClone(event));
    return event;
  }

  async patch(namespace: string, name: string, patch: { count: number; lastTimestamp: string }): Promise<CoreEvent> {
    if (this.down) throw new KubeApiError(503, 'unavailable');
    const event = this.events.get(`${namespace}/${name}`);
    if (!event) throw new KubeApiError(404, 'not found');
    Object.assign(event, patch);
    return event;
  }
}

const route = {
  apiVersion: 'traffic.meshpilot.io/v1alpha1',
  kind: 'AdaptiveRoute',
  metadata: { name: 'checkout', namespace: 'shop', uid: 'u-1', resourceVersion: '42' },
};

function setup() {
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const store = new MemoryEventStore();
  const registry = new Registry();
  const recorder = new EventRecorder({
    store,
    clock,
    registry,
    instance: 'pod-1',
    logger: pino({ level: 'silent' }),
  });
  return { clock, store, registry, recorder };
}

describe('EventRecorder', () => {
  it('writes a core/v1 Event naming the object, its source and the reporting controller', async () => {
    const { store, recorder } = setup();
    await recorder.record(route, 'Warning', 'InvalidSpec', 'spec.destinations[1].weight: must be >= 0');
    const [event] = [...store.events.values()];
    expect(event).toMatchObject({
      metadata: { namespace: 'shop' },
      involvedObject: { kind: 'AdaptiveRoute', name: 'checkout', namespace: 'shop', uid: 'u-1', resourceVersion: '42' },
      type: 'Warning',
      reason: 'InvalidSpec',
      message: 'spec.destinations[1].weight: must be >= 0',
      count: 1,
      firstTimestamp: '2025-01-01T00:00:00Z',
      source: { component: 'meshpilot', host: 'pod-1' },
      reportingComponent: 'meshpilot',
      reportingInstance: 'pod-1',
    });
    expect(event?.metadata.name).toMatch(/^checkout\.[0-9a-f]+$/);
  });

  it('aggregates repeats into one Event by bumping count and lastTimestamp', async () => {
    const { store, recorder, clock } = setup();
    await recorder.record(route, 'Warning', 'InvalidSpec', 'bad');
    await clock.advance(30_000);
    await Promise.all([recorder.record(route, 'Warning', 'InvalidSpec', 'bad'), recorder.record(route, 'Warning', 'InvalidSpec', 'bad')]);
    await recorder.record(route, 'Warning', 'InvalidSpec', 'different');
    await recorder.record(route, 'Normal', 'InvalidSpec', 'bad');
    const events = [...store.events.values()];
    expect(events).toHaveLength(3);
    const bad = events.find((e) => e.message === 'bad' && e.type === 'Warning');
    expect(bad).toMatchObject({ count: 3, firstTimestamp: '2025-01-01T00:00:00Z', lastTimestamp: '2025-01-01T00:00:30Z' });
  });

  it('starts a new Event when the aggregated one has expired', async () => {
    const { store, recorder } = setup();
    await recorder.record(route, 'Normal', 'IntentChanged', 'weights a=100');
    store.events.clear();
    await recorder.record(route, 'Normal', 'IntentChanged', 'weights a=100');
    expect([...store.events.values()].map((e) => e.count)).toEqual([1]);
  });

  it('never throws when the API refuses, and counts the failure', async () => {
    const { store, recorder, registry } = setup();
    store.down = true;
    await expect(recorder.record(route, 'Warning', 'InvalidSpec', 'bad')).resolves.toBeUndefined();
    const values = (await registry.getSingleMetric('meshpilot_events_total')!.get()).values;
    expect(values.find((v) => v.labels.result === 'failed')?.value).toBe(1);
    store.down = false;
    await recorder.record(route, 'Warning', 'InvalidSpec', 'bad');
    expect(store.events.size).toBe(1);
  });
});
