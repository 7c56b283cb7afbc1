// `meshpilot promote` (runPromote) on a temporary models directory: the off-policy gate decides
// (a candidate that keeps traffic home passes on the logged decisions, one that sends it away
// does not), an accepted candidate becomes the version the name links to and a real
// ModelRegistry serves it, a rejected or corrupt one changes nothing, and a promotion stopped
// after any filesystem step is finished or cleaned up by the next run.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../../operator/base/clock.ts';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { MODEL_WEIGHTS_FILE } from '../../../operator/policy/model/loaded-model.ts';
import { MODEL_METADATA_FILE } from '../../../operator/policy/model/format.ts';
import { ModelRegistry } from '../../../operator/policy/model/registry.ts';
import { runPromote, type PromoteOptions } from '../../../training/promote/promote-main.ts';
import { JOURNAL_FILE, VERSIONS_DIR } from '../../../training/promote/model-versions.ts';
import { BETTER, LOGGING, WORSE, saveConstantModel, writeDecisionLog, type ConstantPolicy } from './promote-fixtures.ts';

const NAME = 'checkout';
let root: string;
let log: string;
let routes: string;
let n = 0;
const fresh = (prefix: string) => join(root, `${prefix}${++n}`);
const candidates = new Map<string, string>();

beforeAll(async () => {
  await ensureBackend();
  root = await mkdtemp(join(tmpdir(), 'meshpilot-promote-'));
  log = join(root, 'decisions.jsonl');
  routes = join(root, 'routes.yaml');
  await writeDecisionLog(log, routes);
  for (const p of [LOGGING, BETTER, WORSE]) {
    candidates.set(p.version, join(root, 'candidates', p.version));
    await saveConstantModel(p, candidates.get(p.version)!);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A candidate with BETTER's weights under another version string. */
async function betterAs(version: string): Promise<string> {
  const dir = join(root, 'candidates', version);
  if (!candidates.has(version)) {
    await saveConstantModel({ ...BETTER, version } satisfies ConstantPolicy, dir);
    candidates.set(version, dir);
  }
  return dir;
}

const TRAINED_AT = new Date('2026-01-01T00:00:00Z');
/** Install times: one second later per reading, from after the models were trained, without waiting. */
const clock: Clock = (() => {
  let now = Date.parse('2026-03-01T00:00:00Z');
  return { now: () => (now += 1000), sleep: async () => {} };
})();

/** A models directory whose `checkout` is a real directory holding LOGGING's model, as `meshpilot train --out` leaves it. */
async function modelsDir(): Promise<string> {
  const dir = fresh('models-');
  await cp(candidates.get(LOGGING.version)!, join(dir, NAME), { recursive: true });
  await utimes(join(dir, NAME), TRAINED_AT, TRAINED_AT);
  return dir;
}

async function promote(args: string[], options: PromoteOptions = {}) {
  const out: string[] = [], err: string[] = [];
  const code = await runPromote(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) }, { clock, ...options });
  const last = out.length > 0 ? (JSON.parse(out.at(-1)!) as Record<string, Record<string, unknown>>) : {};
  return { code, out, err: err.join('\n'), last };
}

const gateArgs = () => ['--decision-log', log, '--routes', routes];
const promoteArgs = (models: string, candidate: string, ...more: string[]) => ['--candidate', candidate, '--name', NAME, '--models-dir', models, ...gateArgs(), ...more];

/** What the registry serves as `checkout`: the model's version, or the refusal. */
async function served(models: string): Promise<string> {
  const registry = new ModelRegistry({ root: models });
  try {
    const lookup = await registry.get(NAME);
    return lookup.ok ? lookup.model.metadata.version : `refused: ${lookup.error.message}`;
  } finally {
    registry.dispose();
  }
}

/** Every entry under `dir` with its kind, inode, mtime, link target or content hash. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string) => {
    const s = await lstat(d);
    out[rel || '.'] = `dir ${s.ino} ${s.mtimeMs}`;
    for (const name of (await readdir(d)).sort()) {
      const path = join(d, name), r = rel ? `${rel}/${name}` : name;
      const e = await lstat(path);
      if (e.isSymbolicLink()) out[r] = `link ${await readlink(path)} ${e.mtimeMs}`;
      else if (e.isDirectory()) await walk(path, r);
      else out[r] = `file ${e.ino} ${e.mtimeMs} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
    }
  };
  await walk(dir, '');
  return out;
}

const versionsOf = async (models: string) => (await readdir(join(models, VERSIONS_DIR, NAME))).sort();

describe('runPromote', () => {
  it('installs an accepted candidate as a new version the name links to, and a running registry serves it', async () => {
    const models = await modelsDir();
    const registry = new ModelRegistry({ root: models });
    try {
      const before = await registry.get(NAME);
      expect(before.ok && before.model.metadata.version).toBe(LOGGING.version);

      const run = await promote(promoteArgs(models, candidates.get(BETTER.version)!));
      expect(run.code).toBe(0);
      const ope = JSON.parse(run.out.at(-2)!) as { ope: { model: string; gate: { accept: boolean } } };
      expect(ope.ope).toMatchObject({ model: BETTER.version, gate: { accept: true } });
      expect(run.last).toEqual({ promote: { name: NAME, from: LOGGING.version, to: BETTER.version, accepted: true, installed: true } });

      expect((await lstat(join(models, NAME))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(models, NAME))).toBe(join(VERSIONS_DIR, NAME, BETTER.version));
      // The real directory it replaced is kept as a version of its own.
      expect(await versionsOf(models)).toEqual([LOGGING.version, BETTER.version]);
      const after = await registry.get(NAME);
      expect(after.ok && after.model.metadata.version).toBe(BETTER.version);
    } finally {
      registry.dispose();
    }
  });

  it('changes nothing when the gate rejects the candidate', async () => {
    const models = await modelsDir();
    const untouched = await tree(models);
    const run = await promote(promoteArgs(models, candidates.get(WORSE.version)!));
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/ope: rejected: model checkout-v3's doubly robust estimate .* short of the bar/);
    expect(run.last).toEqual({ promote: { name: NAME, from: LOGGING.version, to: WORSE.version, accepted: false, installed: false } });
    expect(await tree(models)).toEqual(untouched);
    expect(await served(models)).toBe(LOGGING.version);
  });

  it('installs a rejected candidate with --force, saying so, after the same verdict', async () => {
    const models = await modelsDir();
    expect((await promote(promoteArgs(models, candidates.get(BETTER.version)!))).code).toBe(0);
    const run = await promote(promoteArgs(models, candidates.get(WORSE.version)!, '--force'));
    expect(run.code).toBe(0);
    expect(run.err).toContain(`promote: WARNING: --force: installing ${WORSE.version} as ${NAME} although the off-policy gate REJECTED it`);
    expect(JSON.parse(run.out.at(-2)!)).toMatchObject({ ope: { model: WORSE.version, gate: { accept: false } } });
    expect(run.last).toEqual({ promote: { name: NAME, from: BETTER.version, to: WORSE.version, accepted: false, installed: true } });
    expect(await served(models)).toBe(WORSE.version);
    expect(await versionsOf(models)).toEqual([LOGGING.version, BETTER.version, WORSE.version]);
  });

  it('refuses a corrupt candidate with exit code 2, naming the file and the field, even with --force, and changes nothing', async () => {
    const models = await modelsDir();
    const untouched = await tree(models);
    const truncated = fresh('corrupt-');
    await cp(candidates.get(BETTER.version)!, truncated, { recursive: true });
    await truncate(join(truncated, MODEL_WEIGHTS_FILE), 100);
    const run = await promote(promoteArgs(models, truncated, '--force'));
    expect(run.code).toBe(2);
    expect(run.err).toContain(`meshpilot promote: ${join(truncated, MODEL_WEIGHTS_FILE)} (model.json weightsManifest[0].weights): the weight files of group 0 hold 100 bytes`);
    expect(run.out).toEqual([]);

    const badVersion = fresh('corrupt-');
    await cp(candidates.get(BETTER.version)!, badVersion, { recursive: true });
    const meta = JSON.parse(await readFile(join(badVersion, MODEL_METADATA_FILE), 'utf8')) as Record<string, unknown>;
    await writeFile(join(badVersion, MODEL_METADATA_FILE), JSON.stringify({ ...meta, version: '../escape' }));
    const escape = await promote(promoteArgs(models, badVersion, '--force'));
    expect(escape.code).toBe(2);
    expect(escape.err).toContain(`${join(badVersion, MODEL_METADATA_FILE)} version: "../escape" cannot name a version directory`);

    expect(await tree(models)).toEqual(untouched);
    expect(await served(models)).toBe(LOGGING.version);
  });

  it('refuses to replace a name that is neither a model directory nor a link, before writing anything', async () => {
    const models = fresh('models-');
    await mkdir(models);
    await writeFile(join(models, NAME), 'not a model');
    const untouched = await tree(models);
    const run = await promote(promoteArgs(models, candidates.get(BETTER.version)!));
    expect(run).toMatchObject({ code: 2, err: expect.stringContaining(`meshpilot promote: ${join(models, NAME)}: neither a model directory nor a link to one`) });
    expect(await tree(models)).toEqual(untouched);
  });

  it('refuses bad flags with exit code 2, naming the flag', async () => {
    const models = await modelsDir();
    const better = candidates.get(BETTER.version)!;
    expect((await promote(['--candidate', better, ...gateArgs()])).err).toContain('--name: required');
    expect((await promote(['--candidate', better, '--name', 'Bad/Name', ...gateArgs()])).err).toContain('--name: "Bad/Name" is not a model name');
    expect((await promote(['--name', NAME, ...gateArgs()])).err).toContain('--candidate: required');
    expect((await promote(['--candidate', better, '--name', NAME, '--routes', routes])).err).toContain('--decision-log: required');
    const keep = await promote(promoteArgs(models, better, '--keep', '0'));
    expect(keep).toMatchObject({ code: 2, err: expect.stringContaining('--keep: must be a positive integer, got "0"') });
    const recover = await promote(['--name', NAME, '--recover', '--candidate', better]);
    expect(recover).toMatchObject({ code: 2, err: expect.stringContaining('--recover takes only --name and --models-dir, got --candidate') });
    expect(await served(models)).toBe(LOGGING.version);
  });

  it('keeps --keep versions, the newest installed first, never removing the linked one or the one it replaced', async () => {
    const models = await modelsDir();
    const steps: [string, string, string[]][] = [
      // [version, --keep, the versions kept after it is installed]
      ['checkout-v4', '3', [LOGGING.version, 'checkout-v4']],
      ['checkout-v5', '3', [LOGGING.version, 'checkout-v4', 'checkout-v5']],
      // The directory that was there before (trained, and moved aside, before any install) is the oldest.
      ['checkout-v6', '3', ['checkout-v4', 'checkout-v5', 'checkout-v6']],
    ];
    for (const [version, keep, kept] of steps) {
      const run = await promote(promoteArgs(models, await betterAs(version), '--keep', keep));
      expect(run.code).toBe(0);
      expect({ version, kept: await versionsOf(models) }).toEqual({ version, kept });
    }
    // Rolling back to a kept version links it again without copying it; --keep 1 still keeps
    // the one it replaced.
    const inode = (await lstat(join(models, VERSIONS_DIR, NAME, 'checkout-v5', MODEL_WEIGHTS_FILE))).ino;
    const back = await promote(promoteArgs(models, await betterAs('checkout-v5'), '--keep', '1'));
    expect(back.code).toBe(0);
    expect(back.err).toContain('already there, not copied again');
    expect(back.last.promote).toMatchObject({ from: 'checkout-v6', to: 'checkout-v5', installed: true });
    expect(await versionsOf(models)).toEqual(['checkout-v5', 'checkout-v6']);
    expect((await lstat(join(models, VERSIONS_DIR, NAME, 'checkout-v5', MODEL_WEIGHTS_FILE))).ino).toBe(inode);
    expect(await served(models)).toBe('checkout-v5');
  });

  it('installs the shipped model under a new name, and a registry loads it through the link', async () => {
    const models = fresh('models-');
    await mkdir(models);
    const shipped = fresh('shipped-');
    await cp(fileURLToPath(new URL('../../../models/default', import.meta.url)), shipped, { recursive: true });
    const run = await promote(['--candidate', shipped, '--name', 'shipped', '--models-dir', models, ...gateArgs(), '--force']);
    expect(run.code).toBe(0);
    expect(run.err).toContain(`the candidate's ${MODEL_METADATA_FILE} names it "default"; it is installed as "shipped"`);
    const version = (JSON.parse(await readFile(join(shipped, MODEL_METADATA_FILE), 'utf8')) as { version: string }).version;
    expect(run.last.promote).toMatchObject({ name: 'shipped', from: null, to: version, installed: true });
    expect(await readlink(join(models, 'shipped'))).toBe(join(VERSIONS_DIR, 'shipped', version));
    // Every file of the model directory is installed, byte for byte.
    for (const file of await readdir(shipped)) {
      expect(Buffer.compare(await readFile(join(models, 'shipped', file)), await readFile(join(shipped, file)))).toBe(0);
    }
    const registry = new ModelRegistry({ root: models });
    try {
      const lookup = await registry.get('shipped');
      expect(lookup.ok && lookup.model.metadata.version).toBe(version);
    } finally {
      registry.dispose();
    }
  });
});

class SimulatedCrash extends Error {}

/** Stops the promotion after its `at`-th filesystem step (never, for 0); counts the steps it saw. */
function crashAfter(at: number): { afterStep: (step: string) => void; steps: string[] } {
  const steps: string[] = [];
  return {
    steps,
    afterStep: (step) => {
      steps.push(step);
      if (steps.length === at) throw new SimulatedCrash(`simulated crash after step ${at} (${step})`);
    },
  };
}

/** No leftovers: only version directories in .versions/NAME, no journal, no temporary link. */
async function clean(models: string): Promise<void> {
  expect((await readdir(join(models, VERSIONS_DIR, NAME))).filter((e) => e.startsWith('.'))).toEqual([]);
  expect((await readdir(models)).filter((e) => e.startsWith(`.${NAME}`))).toEqual([]);
}

describe('runPromote after a crash', () => {
  // Two starting points: a real directory (the first promotion moves it into .versions), and a
  // link with two versions kept (the promotion prunes the oldest with --keep 2).
  const scenarios = [
    { name: 'over a real directory', before: LOGGING.version, after: BETTER.version, keep: '3', versions: [LOGGING.version, BETTER.version] },
    { name: 'over a link, pruning', before: 'checkout-v7', after: BETTER.version, keep: '2', versions: ['checkout-v7', BETTER.version] },
  ];

  async function template(s: (typeof scenarios)[number]): Promise<string> {
    const models = await modelsDir();
    if (s.before !== LOGGING.version) expect((await promote(promoteArgs(models, await betterAs(s.before)))).code).toBe(0);
    return models;
  }

  for (const s of scenarios) {
    it(`${s.name}: after a crash at any step the registry serves the old model or the new one (or, between moving and linking, none), and recovery or a re-run converges`, async () => {
      const base = await template(s);
      const dry = fresh('dry-');
      await cp(base, dry, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      const counted = crashAfter(0);
      expect((await promote(promoteArgs(dry, candidates.get(s.after)!, '--keep', s.keep), { afterStep: counted.afterStep })).code).toBe(0);
      expect(counted.steps.length).toBeGreaterThan(8);
      if (s.keep === '2') expect(counted.steps).toContain('remove old version');
      else expect(counted.steps).toContain('move directory into versions');
      const stepNumber = (name: string) => counted.steps.indexOf(name) + 1;
      const [swapAt, moveAt, committedAt] = [stepNumber('swap link'), stepNumber('move directory into versions'), stepNumber('commit journal')];
      expect(swapAt > committedAt && committedAt > 0).toBe(true);

      for (let at = 1; at <= counted.steps.length; at++) {
        const models = fresh('crash-');
        await cp(base, models, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
        const crash = crashAfter(at);
        const run = await promote(promoteArgs(models, candidates.get(s.after)!, '--keep', s.keep), { afterStep: crash.afterStep });
        const where = `after step ${at} (${counted.steps[at - 1]})`;
        expect({ where, code: run.code, err: run.err }).toMatchObject({ where, code: 1, err: expect.stringContaining('simulated crash') });
        // Never a mix, never a refusal of a half-written model: the old model until the link is
        // swapped (none between moving a real directory aside and linking), the new one after.
        const during = await served(models);
        const expected = at >= swapAt ? s.after : moveAt > 0 && at >= moveAt ? 'missing' : s.before;
        expect({ where, during }).toEqual({ where, during: expected === 'missing' ? expect.stringMatching(/^refused: .*: no such model directory/) : expected });

        // Even steps: `--recover` first, which must leave a consistent, clean state by itself:
        // the promotion finished once its journal was committed, untouched before.
        if (at % 2 === 0) {
          const recovered = await promote(['--name', NAME, '--models-dir', models, '--recover']);
          expect({ where, code: recovered.code }).toEqual({ where, code: 0 });
          await clean(models);
          expect({ where, served: await served(models) }).toEqual({ where, served: at >= committedAt ? s.after : s.before });
          expect(recovered.last.recover).toMatchObject({ name: NAME, serving: await served(models) });
        }
        const again = await promote(promoteArgs(models, candidates.get(s.after)!, '--keep', s.keep));
        expect({ where, code: again.code, err: again.err }).toMatchObject({ where, code: 0 });
        expect(await served(models)).toBe(s.after);
        expect(await readlink(join(models, NAME))).toBe(join(VERSIONS_DIR, NAME, s.after));
        await clean(models);
        expect({ where, versions: await versionsOf(models) }).toEqual({ where, versions: [...s.versions].sort() });
        await expect(lstat(join(models, VERSIONS_DIR, NAME, JOURNAL_FILE))).rejects.toThrow(/ENOENT/);
      }
    });
  }
});
