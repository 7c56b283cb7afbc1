// Debian's kubectl 1.20 and kubectl 1.35 against the local API server, as independent
// clients: apply (CRDs, then routes; create and update), get with the CRD's printer columns
// and short names, -o yaml, describe with Events, explain with field descriptions, client-side
// validation, an invalid route refused with its field path, delete, and get -w printing each
// change made while it watches, once.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { kubectls } from '../../support/kubectl.ts';
import { adaptiveRouteColumns, GROUP, patchOptions, REPO_ROOT, routeRef, startLocal, VERSION } from '../../support/local-api-server.ts';
import type { LocalHarness } from '../../support/local-api-server.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

describe.each(kubectls())('%s', (client, binary) => {
  let h: LocalHarness;
  let kubectlPath: string;
  const children: ChildProcess[] = [];

  function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(kubectlPath, ['--kubeconfig', h.server.kubeconfigPath, '--cache-dir', join(h.stateDir, 'kubectl-cache'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const r = await kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  beforeAll(async () => {
    kubectlPath = binary();
    // No crdDir: the CRDs arrive through `kubectl apply -f crds/`, as on a real cluster.
    h = await startLocal({ crdDir: undefined });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await h?.dispose();
  });

  describe(`${client} against LocalApiServer`, () => {
    it('applies the CRDs and then routes, creating and then updating', async () => {
      expect(await ok('apply', '-f', join(REPO_ROOT, 'crds'))).toMatch(/customresourcedefinition.apiextensions.k8s.io\/adaptiveroutes.traffic.meshpilot.io created/);
      expect(await ok('get', 'crd')).toContain('adaptiveroutes.traffic.meshpilot.io');
      const created = await ok('apply', '-f', join(FIXTURES, 'valid-routes.yaml'));
      expect(created).toContain('namespace/shop created');
      expect(created).toContain('adaptiveroute.traffic.meshpilot.io/cart created');
      const examples = join(REPO_ROOT, 'deploy/examples');
      if (existsSync(examples)) expect(await ok('apply', '-f', examples)).toMatch(/created/);
      const again = await ok('apply', '-f', join(FIXTURES, 'valid-routes.yaml'));
      expect(again).toContain('namespace/shop unchanged');
      expect(again).toMatch(/adaptiveroute.traffic.meshpilot.io\/cart (unchanged|configured)/);
    });

    it('lists routes in every namespace with the CRD printer columns', async () => {
      const out = await ok('get', 'adaptiveroutes', '-A');
      const [header, ...rows] = out.trim().split('\n');
      const columns = adaptiveRouteColumns().map((c) => c.toUpperCase());
      expect(header?.split(/\s{2,}/)).toEqual(['NAMESPACE', 'NAME', ...columns]);
      expect(columns).toEqual(expect.arrayContaining(['REGIONS', 'WEIGHTS', 'MODE', 'READY', 'AGE']));
      expect(rows.find((r) => r.startsWith('shop') && r.includes(' cart '))).toMatch(/cart\.shop\.svc\.cluster\.local\s.*enforce\s.*\d+s$/);
      const short = await ok('get', 'ar', '-n', 'shop');
      expect(short).toMatch(new RegExp(`^NAME\\s+${columns[0]}\\s+${columns[1]}`));
      expect(short).toContain('payments');
    });

    it('prints a route as YAML', async () => {
      const doc = parseYaml(await ok('get', 'ar', 'cart', '-n', 'shop', '-o', 'yaml')) as { kind: string; apiVersion: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };
      expect(doc.kind).toBe('AdaptiveRoute');
      expect(doc.apiVersion).toBe(`${GROUP}/${VERSION}`);
      expect(doc.metadata).toMatchObject({ name: 'cart', namespace: 'shop', generation: 1, labels: { app: 'cart' } });
      expect(doc.spec.host).toBe('cart.shop.svc.cluster.local');
    });

    it('describes a route with its Events', async () => {
      const route = (await h.custom.getNamespacedCustomObject(routeRef('shop', 'cart'))) as { metadata: { uid: string } };
      await h.core.createNamespacedEvent({
        namespace: 'shop',
        body: {
          metadata: { name: 'cart.reconciled' },
          involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AdaptiveRoute', name: 'cart', namespace: 'shop', uid: route.metadata.uid },
          reason: 'WeightsApplied',
          message: 'eu-west=70 us-east=30',
          type: 'Normal',
          source: { component: 'meshpilot' },
          firstTimestamp: new Date(),
          lastTimestamp: new Date(),
          count: 1,
        },
      });
      const out = await ok('describe', 'ar', 'cart', '-n', 'shop');
      expect(out).toMatch(/Name:\s+cart/);
      expect(out).toMatch(/Events:\s*\n\s+Type\s+Reason\s+Age\s+From\s+Message/);
      expect(out).toMatch(/Normal\s+WeightsApplied\s+\S+\s+meshpilot\s+eu-west=70 us-east=30/);
    });

    it('refuses invalid routes with the field path on stderr', async () => {
      const range = await kubectl('apply', '-f', join(FIXTURES, 'invalid-weight.yaml'));
      expect(range.code).not.toBe(0);
      expect(range.stderr).toContain('The AdaptiveRoute "broken-weight" is invalid');
      expect(range.stderr).toContain('spec.destinations[0].weight: Invalid value: 20000');
      const cel = await kubectl('apply', '-f', join(FIXTURES, 'invalid-cel.yaml'));
      expect(cel.code).not.toBe(0);
      expect(cel.stderr).toContain('spec.destinations: Invalid value: "object": at least one destination must have a weight greater than 0');
      expect((await kubectl('get', 'ar', 'broken-weight', '-n', 'shop')).stderr).toContain('NotFound');
    });

    it('prints a change made while `get -w` watches', async () => {
      const child = spawn(kubectlPath, ['--kubeconfig', h.server.kubeconfigPath, '--cache-dir', join(h.stateDir, 'kubectl-cache'), 'get', 'ar', '-n', 'shop', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      const waitFor = async (pred: () => boolean, what: string) => {
        const deadline = Date.now() + 15_000;
        while (!pred()) {
          if (Date.now() > deadline) throw new Error(`kubectl get -w never printed ${what}; output:\n${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      try {
        await waitFor(() => out.includes('payments'), 'the initial list');
        await h.custom.patchNamespacedCustomObject({ ...routeRef('shop', 'cart'), body: { spec: { policy: { mode: 'shadow' } } } }, patchOptions('merge'));
        await waitFor(() => /\ncart\s+cart\.shop\.svc\.cluster\.local\s.*shadow/.test(out), 'the change');
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('prints each change once while `get -w` watches', async () => {
      const child = spawn(kubectlPath, ['--kubeconfig', h.server.kubeconfigPath, '--cache-dir', join(h.stateDir, 'kubectl-cache'), 'get', 'ar', 'cart', '-n', 'shop', '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      const lines = () => out.split('\n').filter((l) => /\bcart\b/.test(l));
      const deadline = Date.now() + 15_000;
      try {
        while (lines().length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        for (const mode of ['enforce', 'shadow', 'enforce']) {
          const seen = lines().length;
          await h.custom.patchNamespacedCustomObject({ ...routeRef('shop', 'cart'), body: { spec: { policy: { mode } } } }, patchOptions('merge'));
          while (lines().length < seen + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        }
        // A status write (one event), a write that changes nothing (none), and a last change
        // (one): once the last one is printed, whatever the no-op caused would have been too.
        await h.custom.patchNamespacedCustomObjectStatus({ ...routeRef('shop', 'cart'), body: { status: { weightSummary: 'a=1' } } }, patchOptions('merge'));
        await h.custom.patchNamespacedCustomObject({ ...routeRef('shop', 'cart'), body: { spec: { policy: { mode: 'enforce' } } } }, patchOptions('merge'));
        await h.custom.patchNamespacedCustomObject({ ...routeRef('shop', 'cart'), body: { spec: { policy: { mode: 'shadow' } } } }, patchOptions('merge'));
        while (!/\bshadow\b/.test(lines().at(-1) ?? '') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(lines().map((l) => l.split(/\s+/)[0])).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED']);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('explains the route with the CRD schema\'s field descriptions', async () => {
      const top = await ok('explain', 'adaptiveroutes');
      expect(top).toMatch(/KIND:\s+AdaptiveRoute/);
      // 1.20 prints VERSION: traffic.meshpilot.io/v1alpha1; later ones GROUP and VERSION apart.
      expect(top).toMatch(/VERSION:\s+(traffic\.meshpilot\.io\/)?v1alpha1/);
      expect(top).toContain('destinations');
      const field = await ok('explain', 'ar.spec.destinations.weight');
      expect(field).toMatch(/FIELD:\s+weight/);
      expect(field.replace(/\s+/g, ' ')).toContain('Initial share of traffic (fixed in static mode)');
    });

    it('validates client-side with --validate=strict, naming an unknown field', async () => {
      // kubectl 1.20 validates against /openapi/v2 itself; later ones ask the server (fieldValidation=Strict).
      const flag = client.includes('1.20') ? '--validate=true' : '--validate=strict';
      const r = await kubectl('apply', flag, '--dry-run=server', '-f', join(FIXTURES, 'unknown-field.yaml'));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/unknown field "colour"|unknown field "spec\.colour"/);
    });

    it('discovers every resource (1.35 from aggregated discovery alone)', async () => {
      const r = await kubectl('api-resources', '-v=6');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/adaptiveroutes\s+ar\s+traffic\.meshpilot\.io\/v1alpha1\s+true\s+AdaptiveRoute/);
      expect(r.stdout).toMatch(/contactplans\s+cplan\s+traffic\.meshpilot\.io\/v1alpha1\s+true\s+ContactPlan/);
      if (!client.includes('1.20')) expect(r.stderr).not.toMatch(/url="[^"]*\/apis\/traffic\.meshpilot\.io\/v1alpha1\?/);
    });

    it('deletes a route', async () => {
      expect(await ok('delete', 'ar', 'payments', '-n', 'shop')).toContain('adaptiveroute.traffic.meshpilot.io "payments" deleted');
      const gone = await kubectl('get', 'ar', 'payments', '-n', 'shop');
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain('adaptiveroutes.traffic.meshpilot.io "payments" not found');
    });

    it('lists the built-in kinds with their columns', async () => {
      expect(await ok('get', 'ns')).toMatch(/^NAME\s+STATUS\s+AGE\n(.|\n)*shop\s+Active/);
      expect(await ok('get', 'events', '-n', 'shop')).toMatch(/LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n.*Normal\s+WeightsApplied\s+adaptiveroute\/cart/);
      await h.coordination.createNamespacedLease({ namespace: 'shop', body: { metadata: { name: 'meshpilot-leader' }, spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15 } } });
      expect(await ok('get', 'lease', '-n', 'shop')).toMatch(/^NAME\s+HOLDER\s+AGE\nmeshpilot-leader\s+pod-a/);
    });
  });
});
