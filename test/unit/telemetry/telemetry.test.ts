import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ManualClock } from '../../../operator/base/clock.ts';
import { telemetryMetrics } from '../../../operator/telemetry/metrics.ts';
import { sourcesFor, Telemetry } from '../../../operator/telemetry/telemetry.ts';
import type { RouteTarget, SourceKind, TelemetrySource } from '../../../operator/telemetry/types.ts';
import { WindowStore } from '../../../operator/telemetry/window-store.ts';

function target(telemetry: RouteTarget['telemetry'], key = 'shop/checkout'): RouteTarget {
  return {
    key,
    namespace: 'shop',
    name: key.split('/')[1]!,
    host: 'checkout.shop',
    regions: [{ region: 'eu-west', service: 'checkout.eu-west', port: 8080, cluster: 'meshpilot|shop|checkout|eu-west' }],
    telemetry,
    decisionIntervalMs: 10_000,
    staleAfterMs: 5_000,
  };
}

class CountingSource implements TelemetrySource {
  readonly kind: SourceKind;
  watches = 0;
  readonly watched = new Set<string>();
  closed = false;
  constructor(kind: SourceKind) {
    this.kind = kind;
  }
  watch(t: RouteTarget): void {
    this.watches++;
    this.watched.add(t.key);
  }
  unwatch(key: string): void {
    this.watched.delete(key);
  }
  problem(): string | undefined {
    return undefined;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function setup(defaults: SourceKind[] = []) {
  const clock = new ManualClock(1_000_000);
  const store = new WindowStore({ clock, metrics: telemetryMetrics(new Registry()) });
  const scrape = new CountingSource('scrape');
  const prometheus = new CountingSource('prometheus');
  const telemetry = new Telemetry({ store, sources: { scrape, prometheus }, defaultSources: defaults, clock, logger: pino({ level: 'silent' }), checkIntervalMs: 1000 });
  return { clock, store, scrape, prometheus, telemetry };
}

describe('Telemetry', () => {
  it('picks the sources a spec names, else the defaults', () => {
    const scrape = { targets: [{ region: 'eu-west', url: 'http://x/metrics' }], interval: '15s' };
    expect(sourcesFor(target({ staleAfter: '60s', scrape, kafka: { topic: 't' } }), ['prometheus'])).toEqual(['kafka', 'scrape']);
    expect(sourcesFor(target({ staleAfter: '60s' }), ['prometheus'])).toEqual(['prometheus']);
    expect(sourcesFor(target({ staleAfter: '60s' }), [])).toEqual([]);
  });

  it('does not re-watch an unchanged target', () => {
    const { telemetry, prometheus } = setup(['prometheus']);
    telemetry.follow(target({ staleAfter: '60s' }));
    telemetry.follow(target({ staleAfter: '60s' }));
    expect(prometheus.watches).toBe(1);
    telemetry.follow({ ...target({ staleAfter: '60s' }), decisionIntervalMs: 5_000 });
    expect(prometheus.watches).toBe(2);
  });

  it('notices freshness flips while running, and unfollows everything when it stops', async () => {
    const { telemetry, store, clock, scrape } = setup();
    const scrapeSpec = { targets: [{ region: 'eu-west', url: 'http://x/metrics' }], interval: '1s' };
    telemetry.follow(target({ staleAfter: '5s', scrape: scrapeSpec }));
    const flips: string[] = [];
    telemetry.onChange((key) => flips.push(`${key}:${telemetry.status(key)!.state}`));
    const stop = new AbortController();
    const running = telemetry.run(stop.signal);
    await clock.advance(0);
    store.recordSample({ route: 'shop/checkout', region: 'eu-west', atMs: clock.now(), source: 'scrape', values: { requestRate: 1 } });
    await clock.advance(1000);
    await clock.advance(6000);
    expect(flips).toEqual(['shop/checkout:awaiting', 'shop/checkout:fresh', 'shop/checkout:stale']);
    stop.abort();
    await running;
    expect(telemetry.following()).toEqual([]);
    expect(scrape.watched.size).toBe(0);
    expect(store.snapshot('shop/checkout')).toBeUndefined();
  });

  it('closes its sources', async () => {
    const { telemetry, scrape, prometheus } = setup();
    await telemetry.close();
    expect(scrape.closed && prometheus.closed).toBe(true);
  });
});
