// What a person sees when meshpilot cannot start: a port taken, a state directory held by
// another process, a damaged state log. Each exits non-zero at once, says what to change
// (naming the flag), prints no stack trace, and leaves nothing held: no lock, no changed file.
import { execFile } from 'node:child_process';
import { issueCertificate } from '../../operator/tls/certificate-issuer.ts';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLinesChild, nodeBinary } from '../support/child.ts';
import { CLI } from '../support/cluster.ts';
import { adaptiveRoute, clientsFor, routeRef, startLocal } from '../support/local-api-server.ts';

interface Exit {
  code: number | null;
  stderr: string;
}

function meshpilot(args: string[], timeoutMs = 60_000): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(nodeBinary, [CLI, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'startup-'));
  dirs.push(dir);
  return dir;
}

/** A port something else holds. */
async function takenPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

function localArgs(dir: string, overrides: Record<string, string>): string[] {
  const flags = { '--state-dir': join(dir, 'state'), '--xds-addr': '127.0.0.1:0', '--xds-plaintext-addr': '127.0.0.1:0', '--metrics-addr': '127.0.0.1:0', '--health-addr': '127.0.0.1:0', '--demo': 'false', '--examples': 'false', ...overrides };
  return ['local', ...Object.entries(flags).flat()];
}

describe('meshpilot local, when it cannot start', () => {
  it.each(['--xds-addr', '--xds-plaintext-addr', '--metrics-addr', '--health-addr', '--api-port'])('exits 1 at once when the address of %s is taken, naming the flag, with no stack trace, and releases the state directory', async (flag) => {
    const dir = await stateDir();
    const port = await takenPort();
    const r = await meshpilot(localArgs(dir, { [flag]: flag === '--api-port' ? String(port) : `127.0.0.1:${port}` }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toContain('already in use');
    expect(r.stderr).toContain(`choose another address with ${flag}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dir, 'state', 'lock'))).toBe(false);
  });

  it('exits at once when the xDS certificate cannot be used, naming the flag and the file, and releases the state directory', async () => {
    const dir = await stateDir();
    const expired = issueCertificate({ commonName: 'old', sans: ['localhost'], notBefore: Date.now() - 2 * 86_400_000, notAfter: Date.now() - 86_400_000 });
    writeFileSync(join(dir, 'old.crt'), expired.cert);
    writeFileSync(join(dir, 'old.key'), expired.key);
    const missing = await meshpilot(localArgs(dir, { '--xds-tls-cert': join(dir, 'none.crt'), '--xds-tls-key': join(dir, 'none.key') }));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`--xds-tls-cert ${join(dir, 'none.crt')}: cannot read: ENOENT`);
    const old = await meshpilot(localArgs(dir, { '--xds-tls-cert': join(dir, 'old.crt'), '--xds-tls-key': join(dir, 'old.key') }));
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(new RegExp(`--xds-tls-cert ${join(dir, 'old.crt')}: certificate \\(serial [0-9A-F]+\\) expired at`));
    expect(old.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(dir, 'state', 'lock'))).toBe(false);
  });

  it('prints the stack trace when asked for with --log-level debug', async () => {
    const dir = await stateDir();
    const port = await takenPort();
    const r = await meshpilot([...localArgs(dir, { '--xds-addr': `127.0.0.1:${port}` }), '--log-level', 'debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('exits 1, not the usage code 2, when another process holds the state directory', async () => {
    const dir = await stateDir();
    const holder = new JsonLinesChild(nodeBinary, [CLI, 'control-plane', '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
    try {
      await holder.waitForLine((l) => typeof l.url === 'string', 30_000, 'ready line');
      const r = await meshpilot(localArgs(dir, {}));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`is in use by another local API server (pid ${holder.process.pid}`);
      expect(r.stderr).toContain('another --state-dir');
    } finally {
      await holder.stop('SIGKILL');
    }
  });
});

describe('a damaged state log', () => {
  /** A state directory with routes r0..r9 written through the real server, closed cleanly. */
  async function tenRoutes(): Promise<string> {
    const dir = await stateDir();
    const h = await startLocal({ stateDir: dir });
    for (let i = 0; i < 10; i++) await h.custom.createNamespacedCustomObject({ ...routeRef('default'), body: adaptiveRoute(`r${i}`, 'default') });
    await h.server.close();
    return dir;
  }

  /** Damages the record that created `name`, as a flipped bit on disk would; returns its offset and the lines after it. */
  function damage(dir: string, name: string): { offset: number; after: number } {
    const path = join(dir, 'log.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    const index = lines.findIndex((l) => l.includes(`"name":"${name}"`));
    const offset = Buffer.byteLength(lines.slice(0, index).map((l) => `${l}\n`).join(''));
    lines[index] = lines[index]!.replace(`"name":"${name}"`, `"name":"${name}x"`);
    writeFileSync(path, lines.join('\n'));
    return { offset, after: lines.slice(index + 1).filter((l) => l !== '').length };
  }

  it('refuses to start, naming the file, the offset and the records after it, and leaves the file untouched', async () => {
    const dir = await tenRoutes();
    const { offset, after } = damage(dir, 'r5');
    const before = readFileSync(join(dir, 'log.jsonl'));
    const r = await meshpilot(['control-plane', '--state-dir', dir, '--log-level', 'warn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`state log ${join(dir, 'log.jsonl')} is corrupt at line`);
    expect(r.stderr).toContain(`byte offset ${offset}`);
    expect(r.stderr).toContain(`${after} valid record(s) follow it`);
    expect(r.stderr).toContain('--salvage-state');
    expect(readFileSync(join(dir, 'log.jsonl')).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('log.jsonl.'))).toEqual([]);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('with --salvage-state starts with every other record, keeps the original, and reports what was lost', async () => {
    const dir = await tenRoutes();
    damage(dir, 'r5');
    const before = readFileSync(join(dir, 'log.jsonl'));
    const child = new JsonLinesChild(nodeBinary, [CLI, 'control-plane', '--state-dir', dir, '--salvage-state', '--log-level', 'warn']);
    try {
      const ready = await child.waitForLine((l) => typeof l.url === 'string', 30_000, 'ready line');
      const list = (await clientsFor(ready.kubeconfig as string).custom.listNamespacedCustomObject(routeRef('default'))) as { items: { metadata: { name: string } }[] };
      expect(list.items.map((i) => i.metadata.name).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r6', 'r7', 'r8', 'r9']);
      const logs = child.stderr.join('');
      expect(logs).toContain('salvaged a corrupt state log');
      expect(logs).toMatch(/lost line \d+ at byte offset \d+ \(\d+ bytes\): checksum mismatch; it claims to be rv \d+ put traffic\.meshpilot\.io\/adaptiveroutes default\/r5x/);
      const copies = readdirSync(dir).filter((f) => f.startsWith('log.jsonl.corrupt-'));
      expect(copies).toHaveLength(1);
      expect(readFileSync(join(dir, copies[0]!)).equals(before)).toBe(true);
    } finally {
      await child.stop('SIGTERM');
    }
  });
});

describe('meshpilot local after a SIGKILL', () => {
  it('takes over the lease its killed predecessor held at once, saying so, instead of waiting for it to expire', async () => {
    const dir = await stateDir();
    const args = [CLI, ...localArgs(dir, {})];
    const first = new JsonLinesChild(nodeBinary, args);
    try {
      await first.waitForLine((l) => l.msg === 'became leader', 30_000, 'first leader');
    } finally {
      await first.stop('SIGKILL');
    }
    const second = new JsonLinesChild(nodeBinary, args);
    try {
      await second.waitForLine((l) => l.msg === 'became leader', 30_000, 'second leader');
      expect(second.lines.some((l) => l.msg === 'the lease holder is a process of this host that is gone: taking the lease over now')).toBe(true);
      expect(second.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('waiting for the lease'))).toEqual([]);
    } finally {
      await second.stop('SIGTERM');
    }
  });
});
