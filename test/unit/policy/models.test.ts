import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../../operator/base/errors.ts';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { loadModel, saveModel, MODEL_WEIGHTS_FILE, type LoadedModel } from '../../../operator/policy/model/loaded-model.ts';
import { MODEL_METADATA_FILE } from '../../../operator/policy/model/format.ts';
import { DEFAULT_MODELS_ROOT, ModelRegistry } from '../../../operator/policy/model/registry.ts';
import { OBSERVATION_SIZE } from '../../../operator/policy/features.ts';
import { metadata, seededModel } from './fixtures.ts';

let root: string;

beforeAll(async () => {
  await ensureBackend();
  root = await mkdtemp(join(tmpdir(), 'meshpilot-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function save(name: string, version: string, seed = 1): Promise<void> {
  const model = seededModel(seed);
  await saveModel(model, metadata({ name, version }), join(root, name));
  model.dispose();
}

/** A registry over `root` that counts how often it reads a model directory. */
function counting(): { registry: ModelRegistry; loads: () => number } {
  let loads = 0;
  const registry = new ModelRegistry({
    root,
    load: (dir) => {
      loads++;
      return loadModel(dir);
    },
  });
  return { registry, loads: () => loads };
}

const model = (l: Awaited<ReturnType<ModelRegistry['get']>>): LoadedModel => {
  if (!l.ok) throw l.error;
  return l.model;
};

describe('ModelRegistry', () => {
  it('defaults to the repository models/ directory', () => {
    expect(new ModelRegistry().root).toBe(DEFAULT_MODELS_ROOT);
    // The repository's models/, wherever the registry's module sits (it moved once, and the
    // shipped model was then "no such model directory" in every e2e run).
    expect(DEFAULT_MODELS_ROOT).toBe(fileURLToPath(new URL('../../../models', import.meta.url)));
    expect(existsSync(join(DEFAULT_MODELS_ROOT, 'default', 'model.json'))).toBe(true);
  });

  it('loads a model once and serves it from memory while its files are unchanged', async () => {
    await save('alpha', 'a1');
    const { registry, loads } = counting();
    const first = model(await registry.get('alpha'));
    const again = model(await registry.get('alpha'));
    expect(again).toBe(first);
    expect(first.metadata.version).toBe('a1');
    expect(loads()).toBe(1);
    registry.dispose();
  });

  it('shares one load between concurrent lookups', async () => {
    await save('gamma', 'g1');
    const { registry, loads } = counting();
    const [a, b] = await Promise.all([registry.get('gamma'), registry.get('gamma')]);
    expect(model(a)).toBe(model(b));
    expect(loads()).toBe(1);
    registry.dispose();
  });

  it('reloads when the files change, and frees the model it replaces', async () => {
    await save('beta', 'b1');
    const { registry } = counting();
    const old = model(await registry.get('beta'));
    await save('beta', 'b2', 2);
    const fresh = model(await registry.get('beta'));
    expect(fresh.metadata.version).toBe('b2');
    expect(() => old.predict(new Float32Array(OBSERVATION_SIZE), 1)).toThrow(/disposed/);
    registry.dispose();
  });

  it('remembers a refusal instead of re-reading the broken files, and loads the model once it is fixed', async () => {
    await save('broken', 'x1');
    await truncate(join(root, 'broken', MODEL_WEIGHTS_FILE), 16);
    const { registry, loads } = counting();
    const first = await registry.get('broken');
    expect(first.ok).toBe(false);
    if (!first.ok) {
      expect(first.error).toBeInstanceOf(ConfigError);
      expect(first.error.message).toContain(`${join(root, 'broken', MODEL_WEIGHTS_FILE)} (model.json weightsManifest[0].weights)`);
    }
    const second = await registry.get('broken');
    expect(second).toBe(first);
    expect(registry.refusal('broken')).toBe(first.ok ? undefined : first.error);
    expect(loads()).toBe(1);
    await save('broken', 'x2');
    expect(model(await registry.get('broken')).metadata.version).toBe('x2');
    expect(registry.refusal('broken')).toBeUndefined();
    expect(loads()).toBe(2);
    registry.dispose();
  });

  it('notices a rewrite that keeps file names and sizes (mtime)', async () => {
    await save('delta', 'd1');
    const { registry, loads } = counting();
    model(await registry.get('delta'));
    const later = new Date(Date.now() + 5_000);
    await utimes(join(root, 'delta', MODEL_WEIGHTS_FILE), later, later);
    model(await registry.get('delta'));
    expect(loads()).toBe(2);
    registry.dispose();
  });

  it('refuses a missing model directory and a name that is not a directory name, naming the field', async () => {
    const registry = new ModelRegistry({ root });
    const missing = await registry.get('nowhere');
    expect(!missing.ok && missing.error.message).toBe(`${join(root, 'nowhere')}: no such model directory (spec.policy.modelRef.name "nowhere")`);
    const sneaky = await registry.get('../etc');
    expect(!sneaky.ok && sneaky.error.message).toMatch(/^spec\.policy\.modelRef\.name: "\.\.\/etc" is not a model directory name/);
  });

  it('reads every file of one load from the version a link pointed to when the load began, even if the link is swapped mid-load', async () => {
    // models/<name> → .versions/<name>/<version>, as `meshpilot promote` installs it.
    const versions = join(root, '.versions', 'zeta');
    await mkdir(versions, { recursive: true });
    for (const [v, seed] of [['z1', 1], ['z2', 2]] as const) {
      const m = seededModel(seed);
      await saveModel(m, metadata({ name: 'zeta', version: v }), join(versions, v));
      m.dispose();
    }
    const link = join(root, 'zeta');
    await symlink(join('.versions', 'zeta', 'z1'), link);
    const swapTo = async (v: string) => {
      await symlink(join('.versions', 'zeta', v), `${link}.tmp`);
      await rename(`${link}.tmp`, link);
    };
    // A load that reads the metadata, then (the link swapped under it) everything else.
    const seen: string[] = [];
    const registry = new ModelRegistry({
      root,
      load: async (dir) => {
        const first = (JSON.parse(await readFile(join(dir, MODEL_METADATA_FILE), 'utf8')) as { version: string }).version;
        if (seen.length === 0) await swapTo('z2');
        const loaded = await loadModel(dir);
        seen.push(`${first}/${loaded.metadata.version}`);
        return loaded;
      },
    });
    try {
      expect(model(await registry.get('zeta')).metadata.version).toBe('z1');
      expect(model(await registry.get('zeta')).metadata.version).toBe('z2');
      expect(seen).toEqual(['z1/z1', 'z2/z2']);
      expect(model(await registry.get('zeta')).dir).toBe(join(versions, 'z2'));
    } finally {
      registry.dispose();
    }
  });

  it('reports a link to a missing version as a missing model, naming the link and its target', async () => {
    await symlink(join('.versions', 'eta', 'gone'), join(root, 'eta'));
    const registry = new ModelRegistry({ root });
    const lookup = await registry.get('eta');
    expect(!lookup.ok && lookup.error.message).toBe(`${join(root, 'eta')} (a link to ${join(root, '.versions', 'eta', 'gone')}): no such model directory (spec.policy.modelRef.name "eta")`);
  });

  it('dispose frees every model it holds', async () => {
    await save('epsilon', 'e1');
    const before = tf.memory().numTensors;
    const registry = new ModelRegistry({ root });
    model(await registry.get('epsilon'));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    registry.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
