import { MemoryIntentSink } from '../../../operator/routing/memory-intent-sink.ts';
import { OutputFanout } from '../../../operator/routing/output-fanout.ts';
import { intentFromSpec } from '../../../operator/routing/route-intent.ts';
import type { IntentSink } from '../../../operator/routing/intent-sink.ts';
import { exampleRoute } from '../controller/fake-cluster.ts';

describe('OutputFanout', () => {
  it('publishes to enabled outputs and withdraws from disabled ones', async () => {
    const xds = new MemoryIntentSink();
    const istio = new MemoryIntentSink();
    const fanout = new OutputFanout({ xds, istio });
    const intent = intentFromSpec(exampleRoute());
    await fanout.publish({ ...intent, outputs: { xds: true, istio: true } });
    expect([xds.get(intent.key), istio.get(intent.key)].map(Boolean)).toEqual([true, true]);
    await fanout.publish({ ...intent, outputs: { xds: true, istio: false } });
    expect([xds.get(intent.key), istio.get(intent.key)].map(Boolean)).toEqual([true, false]);
    await fanout.withdraw(intent.key);
    expect(xds.get(intent.key)).toBeUndefined();
  });

  it('still reaches every output when one fails, then reports the failure', async () => {
    const istio = new MemoryIntentSink();
    const broken: IntentSink = { publish: () => Promise.reject(new Error('xds down')), withdraw: () => Promise.resolve() };
    const fanout = new OutputFanout({ xds: broken, istio });
    const intent = { ...intentFromSpec(exampleRoute()), outputs: { xds: true, istio: true } };
    await expect(fanout.publish(intent)).rejects.toThrow('xds down');
    expect(istio.get(intent.key)).toBeDefined();
  });
});
