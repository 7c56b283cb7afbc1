import { Probes } from '../../../operator/process/probes.ts';
import { serveEndpoints } from '../../../operator/process/http-endpoints.ts';
import { Counter, Registry } from 'prom-client';

describe('Probes', () => {
  it('is healthy only when every check passes, and says which failed', async () => {
    const probes = new Probes();
    let synced = false;
    probes.set('ping', () => undefined);
    probes.set('informers', () => (synced ? undefined : 'caches not synced'));
    expect(await probes.run(false)).toEqual({ ok: false, body: '[+]ping ok\n[-]informers failed: caches not synced\ncheck failed\n' });
    synced = true;
    expect(await probes.run(false)).toEqual({ ok: true, body: 'ok' });
    expect((await probes.run(true)).body).toContain('[+]informers ok');
  });

  it('counts a throwing check as failed', async () => {
    const probes = new Probes();
    probes.set('boom', () => {
      throw new Error('no connection');
    });
    expect(await probes.run(false)).toMatchObject({ ok: false, body: expect.stringContaining('boom failed: no connection') });
  });
});

describe('serveEndpoints', () => {
  it('serves metrics from its private registry and the probes over HTTP', async () => {
    const registry = new Registry();
    new Counter({ name: 'meshpilot_test_total', help: 'test', registers: [registry] }).inc(3);
    const readyz = new Probes();
    let ready = false;
    readyz.set('informers', () => (ready ? undefined : 'not synced'));
    const server = await serveEndpoints('127.0.0.1', 0, { metrics: registry, readyz });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('meshpilot_test_total 3');
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/healthz`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});

describe('debug endpoints', () => {
  it('serves JSON, 404 for an unknown object and 400 for a bad query', async () => {
    const nodes: Record<string, object> = { 'node-a': { acked: 'v1' } };
    const server = await serveEndpoints('127.0.0.1', 0, {
      debug: {
        'xds/config_dump': (q) => {
          const node = q.get('node');
          if (!node) throw new Error('node: required');
          return nodes[node];
        },
      },
    });
    try {
      const base = `http://127.0.0.1:${server.port}/debug/xds/config_dump`;
      const ok = await fetch(`${base}?node=node-a`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ acked: 'v1' });
      expect((await fetch(`${base}?node=other`)).status).toBe(404);
      const bad = await fetch(base);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: 'node: required' });
    } finally {
      await server.close();
    }
  });
});
