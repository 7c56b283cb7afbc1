// The command line itself, as a user runs it: help on every command, exit codes, and a
// clear message naming the flag on bad usage.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = new URL('../../../operator/cli.ts', import.meta.url).pathname;

async function meshpilot(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('meshpilot command line', () => {
  it.each(['run', 'local', 'start', 'control-plane', 'validate', 'xds', 'scenarios', 'version'])('prints help for %s', async (command) => {
    const r = await meshpilot(command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: meshpilot ${command}`);
  });

  it('lists the commands and exits 2 when given none', async () => {
    const r = await meshpilot();
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Commands:');
  });

  it('refuses an unknown command and an unknown flag, naming them', async () => {
    const unknown = await meshpilot('deploy');
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "deploy"') });
    const flag = await meshpilot('run', '--lease-duration', 'forever');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--lease-duration (or MESHPILOT_LEASE_DURATION)');
  });

  it('validates files and exits 1 on an invalid one', async () => {
    const ok = await meshpilot('validate', '-f', 'deploy/examples');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('AdaptiveRoute/checkout: valid\n  Warning: spec.tls.mode: "pq-hybrid" is not implemented yet');
    const dir = await mkdtemp(join(tmpdir(), 'cli-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), 'apiVersion: traffic.meshpilot.io/v1alpha1\nkind: AdaptiveRoute\nmetadata: {name: x}\nspec: {destinations: []}\n');
      const bad = await meshpilot('validate', '-f', join(dir, 'bad.yaml'));
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('spec.host: Required value');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints the version from package.json', async () => {
    const r = await meshpilot('version');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
