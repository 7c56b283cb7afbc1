// Credentials follow their files as Kubernetes updates a mounted Secret (a new directory, then
// the `..data` symlink swapped to it in one rename): new handshakes get the new certificate,
// an established connection keeps working, and a broken update keeps the last good one serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../operator/base/clock.ts';
import { issueServingCert } from '../../../operator/local/serving-cert.ts';
import { CredentialReloader } from '../../../operator/tls/credential-reloader.ts';
import { profileOptions } from '../../../operator/tls/profiles.ts';

let dir: string;
let version = 0;

/** Writes a new `..<n>` directory and swaps `..data` to it atomically, as kubelet does. */
async function publish(files: { 'tls.crt': string; 'tls.key': string }): Promise<void> {
  const next = `..${++version}`;
  await mkdir(join(dir, next));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, next, name), text);
  await symlink(next, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}

function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => (check() ? resolve() : Date.now() > deadline ? reject(new Error(`timed out waiting for ${what}`)) : setTimeout(tick, 20));
    tick();
  });
}

describe('CredentialReloader', () => {
  const first = issueServingCert(['localhost']);
  const second = issueServingCert(['localhost']);
  let server: Server;
  let reloader: CredentialReloader;
  const registry = new Registry();
  const accepted = new Set<TLSSocket>();
  const opened: TLSSocket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tls-reload-'));
    await publish({ 'tls.crt': first.cert, 'tls.key': first.key });
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
    reloader = CredentialReloader.start({
      channel: 'test',
      files: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
      onReload: (c) => server.setSecureContext({ cert: c.cert, key: c.key, ...profileOptions('pq-hybrid') }),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      registry,
      settleMs: 50,
    });
    server = createServer({ cert: reloader.current.cert, key: reloader.current.key, ...profileOptions('pq-hybrid') }, (s) => {
      accepted.add(s);
      s.pipe(s);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    reloader.close();
    for (const s of [...opened, ...accepted]) s.destroy();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (ca: string): Promise<TLSSocket> =>
    new Promise((resolve, reject) => {
      const s = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', ca, servername: 'localhost' }, () => resolve(s));
      opened.push(s);
      s.on('error', reject);
    });
  const echo = (s: TLSSocket, text: string): Promise<string> =>
    new Promise((resolve) => {
      s.once('data', (d: Buffer) => resolve(d.toString()));
      s.write(text);
    });
  const metric = async (result: string) => (await registry.getSingleMetric('meshpilot_tls_credential_reloads_total')!.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  // Read once, right after the handshake: Node gives no peer certificate on a later call.
  const serialOf = (s: TLSSocket) => s.getPeerX509Certificate()!.serialNumber;
  const failures = async () => metric('failed');

  it('serves the new certificate to new handshakes and keeps established connections', async () => {
    const before = await open(first.cert);
    const firstSerial = serialOf(before);
    expect(firstSerial).toBe(reloader.current.leaf.serialNumber);
    await publish({ 'tls.crt': second.cert, 'tls.key': second.key });
    await until(() => reloader.current.cert === second.cert, 'the reload');
    const afterSerial = serialOf(await open(second.cert));
    expect(afterSerial).toBe(reloader.current.leaf.serialNumber);
    expect(afterSerial).not.toBe(firstSerial);
    expect(await echo(before, 'still here')).toBe('still here');
    expect(await metric('reloaded')).toBe(1);
  });

  it('keeps serving the last good credentials when the update is broken, and counts the failure', async () => {
    await publish({ 'tls.crt': first.cert, 'tls.key': second.key });
    const deadline = Date.now() + 10_000;
    while ((await failures()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await failures()).toBe(1);
    expect(reloader.current.cert).toBe(second.cert);
    const s = await open(second.cert);
    expect(serialOf(s)).toBe(reloader.current.leaf.serialNumber);
  });
});
