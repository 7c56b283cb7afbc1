// `meshpilot local` (what `npm start` runs without a cluster): the embedded control plane,
// the CRDs, the examples and the operator; Debian's kubectl sees the routes Ready with their
// printer columns; the demo mesh runs real traffic through the xDS server and its route reads
// fresh telemetry by direct scrape; a restart from the same state directory resumes without
// losing anything.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JsonLinesChild, nodeBinary } from '../support/child.ts';
import { CLI } from '../support/cluster.ts';
import { debianKubectl } from '../support/kubectl.ts';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { DEMO_HOST } from '../../operator/demo/demo-manifest.ts';
import { listenerName } from '../../operator/xds/names.ts';
import { TYPE_URLS } from '../../operator/xds/type-urls.ts';
import { SotwClient } from '../unit/xds/raw-ads-client.ts';

const run = promisify(execFile);

describe('meshpilot local', () => {
  let stateDir: string;
  let cacheDir: string;
  const children: JsonLinesChild[] = [];

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'meshpilot-local-'));
    cacheDir = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
  });
  // A failed test must not leave its operator holding the state directory: the next test
  // would fail on the lock and hide which test really failed.
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.stop('SIGKILL')));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });

  function startLocal(...extra: string[]): JsonLinesChild {
    const child = new JsonLinesChild(nodeBinary, [CLI, 'local', '--state-dir', stateDir, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--xds-addr', '127.0.0.1:0', '--xds-plaintext-addr', '127.0.0.1:0', ...extra]);
    children.push(child);
    return child;
  }

  async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
    const { stdout } = await run(debianKubectl(), ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args]);
    return stdout;
  }

  async function readyRoutes(child: JsonLinesChild, names: string[]): Promise<void> {
    for (const name of names) {
      await child.waitForLine((l) => l.route === `default/${name}` && l.ready === 'True', 30_000, `route ${name} Ready`);
    }
  }

  it('starts the control plane, applies the examples and reconciles them', async () => {
    const child = startLocal();
    const ready = await child.waitForLine((l) => l.msg === 'control plane ready', 30_000, 'control plane ready');
    const kubeconfig = ready.kubeconfig as string;
    expect(kubeconfig).toBe(join(stateDir, 'kubeconfig'));
    await readyRoutes(child, ['checkout', 'catalog', 'search', 'field-sensors']);

    const table = await kubectl(kubeconfig, 'get', 'adaptiveroutes', '-A');
    const [header, ...rows] = table.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAMESPACE', 'NAME', 'HOST', 'REGIONS', 'WEIGHTS', 'MODE', 'READY', 'SYNCED', 'AGE']);
    const checkout = rows.find((r) => r.split(/\s+/)[1] === 'checkout')!.split(/\s+/);
    expect(checkout).toEqual(expect.arrayContaining(['checkout.shop.svc.cluster.local', '3', 'eu-west=60,us-east=40,ap-south=0', 'enforce', 'True']));

    // The demo route: served to the demo's proxyless client, and read by scrape from its backends.
    await readyRoutes(child, ['demo']);
    await child.waitForLine((l) => l.key === 'default/demo' && l.msg === 'telemetry fresh', 30_000, 'demo telemetry fresh');
    const demo = JSON.parse(await kubectl(kubeconfig, 'get', 'ar', 'demo', '-o', 'json')) as {
      status: { conditions: { type: string; status: string; message: string }[]; policy: { decidedBy: string; shadow?: { modelVersion?: string; rules: string[] } } };
    };
    const conditions = Object.fromEntries(demo.status.conditions.map((c) => [c.type, c]));
    expect(conditions.XdsSynced).toMatchObject({ status: 'True' });
    expect(conditions.TelemetryFresh).toMatchObject({ status: 'True', message: 'scrape: every region reported within staleAfter 30s' });
    // The heuristic serves the demo route; the shipped model decides beside it in shadow
    // until it passes its held-out figures (models/default/MODEL_CARD.md).
    expect(conditions.PolicyModel).toMatchObject({ status: 'True', reason: 'ModelLoaded' });
    expect(conditions.PolicyModel!.message).toContain('decides in shadow (status.policy.shadow, never served); the heuristic serves');
    expect(demo.status.policy.decidedBy).toBe('heuristic');
    expect(demo.status.policy.shadow).toMatchObject({ modelVersion: expect.any(String), rules: expect.arrayContaining(['ShadowMode']) });
    // The examples were adapted to local mode instead of warning about what needs a cluster.
    const checkoutRoute = JSON.parse(await kubectl(kubeconfig, 'get', 'ar', 'checkout', '-o', 'json')) as { metadata: { annotations: Record<string, string> } };
    expect(checkoutRoute.metadata.annotations['meshpilot.io/local-mode']).toContain('removed spec.telemetry.prometheus');
    const warnings = child.lines.filter((l) => l.level === 'warn' && typeof l.msg === 'string' && /no Prometheus URL|scrape failed/.test(l.msg));
    expect(warnings).toEqual([]);
    expect(child.stderr.join('')).toContain(`kubectl --kubeconfig ${kubeconfig} get adaptiveroutes -A`);

    // xDS over mTLS with the certificates local issued: its client certificate (a SPIFFE ID in
    // namespace default) gets the routes of default, over the pq-hybrid profile.
    const listening = await child.waitForLine((l) => l.msg === 'xDS server listening', 1_000, 'xDS server listening');
    expect(listening.tls).toEqual({ profile: 'pq-hybrid', mutual: true });
    const issued = await child.waitForLine((l) => typeof l.clientCert === 'string', 1_000, 'the local client certificate');
    const { xdsPort, metricsPort } = await child.waitForLine((l) => l.msg === 'serving endpoints', 1_000, 'serving endpoints');
    // The control plane's HTTPS counts its handshakes on the operator's /metrics: the operator
    // (Node) negotiates the hybrid group, Debian's kubectl 1.20 (Go 1.15) X25519.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort as number}/metrics`)).text();
    expect(metrics).toMatch(/meshpilot_tls_handshakes_total\{channel="apiserver",group="X25519MLKEM768",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/meshpilot_tls_handshakes_total\{channel="apiserver",group="X25519",result="ok"\} [1-9]/);
    const read = (f: unknown) => readFileSync(f as string, 'utf8');
    const credentials = grpc.credentials.createFromSecureContext(createSecureContext({ ca: read(issued.ca), cert: read(issued.clientCert), key: read(issued.clientKey) }));
    const ads = new SotwClient(xdsPort as number, { id: 'local-e2e' }, { credentials, serverName: 'localhost' });
    try {
      ads.request(TYPE_URLS.listener, [listenerName(DEMO_HOST), listenerName('checkout.shop.svc.cluster.local')]);
      expect((await ads.next(10_000)).resources).toHaveLength(2);
    } finally {
      ads.close();
    }
    expect(child.lines.some((l) => l.level === 'warn' && typeof l.msg === 'string' && l.msg.startsWith('xDS server listening in PLAINTEXT'))).toBe(true);

    const exit = await child.stop('SIGTERM');
    expect(exit.code).toBe(0);
  });

  it('resumes from the state directory without re-applying or losing anything', async () => {
    const child = startLocal();
    const ready = await child.waitForLine((l) => l.msg === 'control plane ready', 30_000, 'control plane ready');
    await readyRoutes(child, ['checkout', 'catalog', 'search', 'field-sensors']);
    expect(child.lines.some((l) => l.msg === 'applied example')).toBe(false);
    const names = (await kubectl(ready.kubeconfig as string, 'get', 'ar', '-o', 'name')).trim().split('\n').sort();
    expect(names).toEqual([
      'adaptiveroute.traffic.meshpilot.io/catalog',
      'adaptiveroute.traffic.meshpilot.io/checkout',
      'adaptiveroute.traffic.meshpilot.io/demo',
      'adaptiveroute.traffic.meshpilot.io/field-sensors',
      'adaptiveroute.traffic.meshpilot.io/search',
    ]);
    const exit = await child.stop('SIGTERM');
    const failures = child.lines.filter((l) => Number(l.level) >= 50 || l.level === 'error' || l.level === 'fatal');
    expect([exit.code, failures, exit.code === 0 ? '' : child.stderr.join('').slice(-3000)]).toEqual([0, [], '']);
  });

  it('writes its log as text for a person with --log-format text', async () => {
    const child = startLocal('--demo', 'false', '--log-format', 'text');
    await child.waitForLine((l) => typeof l.msg === 'string' && / INFO {2}control plane ready url=https:/.test(l.msg), 30_000, 'a text line');
    expect(child.lines.filter((l) => !l.unparsed)).toEqual([]);
    expect((await child.stop('SIGTERM')).code).toBe(0);
  });

  it('with the demo off, removes the demo route an earlier run left pointing at its old ports', async () => {
    const child = startLocal('--demo', 'false');
    const ready = await child.waitForLine((l) => l.msg === 'control plane ready', 30_000, 'control plane ready');
    await child.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('removed the demo route'), 30_000, 'demo route removed');
    // The operator's finalizer goes first: the route is gone once the operator has unpublished it.
    let names: string[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      names = (await kubectl(ready.kubeconfig as string, 'get', 'ar', '-o', 'name')).trim().split('\n');
      if (!names.includes('adaptiveroute.traffic.meshpilot.io/demo')) break;
    }
    expect(names).not.toContain('adaptiveroute.traffic.meshpilot.io/demo');
    expect(names).toContain('adaptiveroute.traffic.meshpilot.io/checkout');
    expect((await child.stop('SIGTERM')).code).toBe(0);
  });
});
