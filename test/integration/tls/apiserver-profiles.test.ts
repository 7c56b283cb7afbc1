// The embedded control plane's HTTPS under the TLS profiles, with real clients: kubectl 1.35
// (Go, which offers X25519MLKEM768) gets the hybrid group; Debian's kubectl 1.20 (Go 1.15,
// X25519 only) still connects to pq-hybrid through its X25519 fallback, and is refused by
// pq-only. The server counts each handshake by group (meshpilot_tls_handshakes_total).
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { DEFAULT_CRD_DIR } from '../../../operator/api/crds.ts';
import { LocalApiServer } from '../../../operator/local/server.ts';
import type { TlsProfile } from '../../../operator/tls/profiles.ts';
import { currentKubectl, debianKubectl } from '../../support/kubectl.ts';
import { metric } from '../../unit/xds/fixtures.ts';

const run = promisify(execFile);
let server: LocalApiServer | undefined;
let dir: string | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(profile: TlsProfile): Promise<{ server: LocalApiServer; registry: Registry }> {
  dir = mkdtempSync(join(tmpdir(), 'meshpilot-api-tls-'));
  const registry = new Registry();
  server = await LocalApiServer.start({ stateDir: dir, crdDir: DEFAULT_CRD_DIR, metricsRegistry: registry, tlsProfile: profile });
  return { server, registry };
}

async function kubectlVersion(kubectl: string, s: LocalApiServer): Promise<'ok' | string> {
  try {
    await run(kubectl, ['--kubeconfig', s.kubeconfigPath, 'get', '--raw', '/version'], { timeout: 30_000 });
    return 'ok';
  } catch (e) {
    return (e as { stderr?: string }).stderr ?? String(e);
  }
}

const handshakes = (registry: Registry, labels: Record<string, string>) => metric(registry, 'meshpilot_tls_handshakes_total', { channel: 'apiserver', ...labels });

describe('the embedded API server under the TLS profiles', () => {
  it('pq-hybrid: kubectl 1.35 gets X25519MLKEM768, Debian kubectl 1.20 falls back to X25519', async () => {
    const { server: s, registry } = await start('pq-hybrid');
    expect(await kubectlVersion(currentKubectl(), s)).toBe('ok');
    expect(await handshakes(registry, { group: 'X25519MLKEM768', result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(await handshakes(registry, { group: 'X25519' })).toBe(0);
    expect(await kubectlVersion(debianKubectl(), s)).toBe('ok');
    expect(await handshakes(registry, { group: 'X25519', result: 'ok' })).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('pq-only: kubectl 1.35 connects, Debian kubectl 1.20 is refused at the handshake and counted', async () => {
    const { server: s, registry } = await start('pq-only');
    expect(await kubectlVersion(currentKubectl(), s)).toBe('ok');
    const refused = await kubectlVersion(debianKubectl(), s);
    expect(refused).toMatch(/handshake failure|tls:/i);
    expect(await handshakes(registry, { group: 'none', result: 'no_shared_group' })).toBeGreaterThanOrEqual(1);
    expect(await handshakes(registry, { group: 'X25519' })).toBe(0);
  }, 60_000);
});
