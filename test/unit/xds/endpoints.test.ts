// Endpoint resolvers: a static table and DNS with refresh on an injected clock.
import type { LookupAddress, promises as dnsPromises } from 'node:dns';
import { ManualClock } from '../../../operator/base/clock.ts';
import { DnsEndpointResolver, StaticEndpointResolver } from '../../../operator/xds/endpoints.ts';

describe('StaticEndpointResolver', () => {
  it('answers from its table, resolves an IP literal to itself and anything else to nothing', async () => {
    const r = new StaticEndpointResolver({ 'a.svc': [{ address: '10.0.0.2', port: 81 }, { address: '10.0.0.1', port: 80 }] });
    expect(await r.resolve('a.svc', 9999)).toEqual([{ address: '10.0.0.1', port: 80 }, { address: '10.0.0.2', port: 81 }]);
    expect(await r.resolve('10.1.2.3', 8080)).toEqual([{ address: '10.1.2.3', port: 8080 }]);
    expect(await r.resolve('::1', 8080)).toEqual([{ address: '::1', port: 8080 }]);
    expect(await r.resolve('unknown.svc', 8080)).toEqual([]);
  });

  it('notifies listeners on set and stops after unsubscribe', async () => {
    const r = new StaticEndpointResolver();
    let calls = 0;
    const off = r.onChange(() => calls++);
    r.set('a.svc', [{ address: '10.0.0.1', port: 80 }]);
    expect(await r.resolve('a.svc', 80)).toEqual([{ address: '10.0.0.1', port: 80 }]);
    off();
    r.set('a.svc', []);
    expect(calls).toBe(1);
  });
});

describe('DnsEndpointResolver', () => {
  function fakeDns(answers: Record<string, string[] | Error>) {
    const lookups: string[] = [];
    const lookup = (async (host: string) => {
      lookups.push(host);
      const a = answers[host];
      if (a === undefined || a instanceof Error) throw a ?? Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return a.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    }) as unknown as typeof dnsPromises.lookup;
    return { lookup, lookups, answers };
  }

  it('returns every A and AAAA record with the requested port, and an IP literal without a lookup', async () => {
    const dns = fakeDns({ 'a.svc': ['10.0.0.2', '10.0.0.1', 'fd00::1'] });
    const r = new DnsEndpointResolver({ lookup: dns.lookup, clock: new ManualClock() });
    expect(await r.resolve('a.svc', 8080)).toEqual([
      { address: '10.0.0.1', port: 8080 },
      { address: '10.0.0.2', port: 8080 },
      { address: 'fd00::1', port: 8080 },
    ]);
    expect(await r.resolve('10.9.9.9', 1)).toEqual([{ address: '10.9.9.9', port: 1 }]);
    expect(dns.lookups).toEqual(['a.svc']);
    r.close();
  });

  it('refreshes on its clock, notifies on a changed answer, and keeps the last good answer when a lookup fails', async () => {
    const clock = new ManualClock();
    const dns = fakeDns({ 'a.svc': ['10.0.0.1'] });
    const r = new DnsEndpointResolver({ lookup: dns.lookup, clock, refreshMs: 1000 });
    let changes = 0;
    r.onChange(() => changes++);
    expect(await r.resolve('a.svc', 80)).toEqual([{ address: '10.0.0.1', port: 80 }]);

    dns.answers['a.svc'] = ['10.0.0.1', '10.0.0.3'];
    await clock.advance(1000);
    await new Promise((res) => setImmediate(res));
    expect(changes).toBe(1);
    expect(await r.resolve('a.svc', 80)).toHaveLength(2);

    dns.answers['a.svc'] = new Error('SERVFAIL');
    await clock.advance(1000);
    await new Promise((res) => setImmediate(res));
    expect(changes).toBe(1);
    expect(await r.resolve('a.svc', 80)).toHaveLength(2);
    r.close();
  });

  it('resolves a name that never resolved to no endpoints', async () => {
    const r = new DnsEndpointResolver({ lookup: fakeDns({}).lookup, clock: new ManualClock() });
    expect(await r.resolve('nowhere.svc', 80)).toEqual([]);
    r.close();
  });
});
