import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { AdaptiveRoute } from '../../../operator/api/types.ts';
import { warmUpXds } from '../../../operator/adaptive-route/xds-warmup.ts';
import type { Informer } from '../../../operator/kube/informer.ts';
import { makeRoute } from '../policy/fixtures.ts';

/** A route whose status records a decided intent (what intentFromStatus reads). */
const decided = (name: string): AdaptiveRoute => ({
  ...makeRoute(name, [{ region: 'eu-west', weight: 100 }]),
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'IntentPublished', message: '', lastTransitionTime: '2026-12-07T00:00:00Z' }], weights: [{ region: 'eu-west', weight: 100 }] },
}) as AdaptiveRoute;

function world(routes: AdaptiveRoute[], synced: () => boolean) {
  const served = new Set<string>();
  const events: string[] = [];
  let clock = 0;
  return {
    served,
    events,
    routes: { list: () => routes, hasSynced: synced } as unknown as Informer<AdaptiveRoute>,
    xds: { serves: (k: string) => served.has(k), flush: async () => void events.push('flush'), markLoaded: () => void events.push('loaded') },
    now: () => clock,
    sleep: async (ms: number) => {
      clock += ms;
    },
  };
}

describe('warmUpXds', () => {
  it('marks the server loaded once the cache synced and every decided route is served again', async () => {
    let synced = false;
    const w = world([decided('a'), decided('b')], () => synced);
    const sleep = async (ms: number) => {
      await w.sleep(ms);
      if (w.now() >= 200) synced = true;
      if (w.now() >= 400) w.served.add('shop/a');
      if (w.now() >= 600) w.served.add('shop/b');
    };
    await warmUpXds({ routes: w.routes, xds: w.xds, logger: pino({ level: 'silent' }), signal: new AbortController().signal, sleep, now: w.now, pollMs: 100 });
    expect(w.now()).toBe(600);
    expect(w.events).toEqual(['flush', 'loaded']);
  });

  it('answers anyway after the timeout, saying which routes were missing', async () => {
    const w = world([decided('a')], () => true);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    await warmUpXds({ routes: w.routes, xds: w.xds, logger, signal: new AbortController().signal, sleep: w.sleep, now: w.now, timeoutMs: 1000, pollMs: 100 });
    expect(w.events).toEqual(['flush', 'loaded']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'answering xDS proxies before every decided route was published again', missing: ['shop/a'] });
  });
});
