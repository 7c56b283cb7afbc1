import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../../operator/base/errors.ts';
import { prng } from '../../../operator/base/random.ts';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { loadModel, saveModel, MODEL_WEIGHTS_FILE } from '../../../operator/policy/model/loaded-model.ts';
import { ModelLoadError } from '../../../operator/policy/model/files.ts';
import { MODEL_METADATA_FILE, MODEL_TOPOLOGY_FILE } from '../../../operator/policy/model/format.ts';
import { ACTION_SIZE, MAX_REGIONS, MODEL_OUTPUT_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION, poolRegionOutputs, ROW_SIZE } from '../../../operator/policy/features.ts';
import { metadata, seededModel } from './fixtures.ts';

let root: string;
let n = 0;
const fresh = () => join(root, `m${++n}`);

beforeAll(async () => {
  await ensureBackend();
  root = await mkdtemp(join(tmpdir(), 'meshpilot-model-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A saved, valid model directory. */
async function savedModel(seed = 1): Promise<string> {
  const dir = fresh();
  const model = seededModel(seed);
  await saveModel(model, metadata(), dir);
  model.dispose();
  return dir;
}

/** Writes `model` with tfjs' own artifacts and no checks (saveModel refuses what these tests need). */
async function writeUnchecked(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(a.weightData!));
      await writeFile(join(dir, MODEL_WEIGHTS_FILE), weights);
      await writeFile(join(dir, MODEL_TOPOLOGY_FILE), JSON.stringify({ modelTopology: a.modelTopology, format: 'layers-model', weightsManifest: [{ paths: [MODEL_WEIGHTS_FILE], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(join(dir, MODEL_METADATA_FILE), JSON.stringify(metadata()));
}

async function editJson(path: string, edit: (v: Record<string, unknown>) => void): Promise<void> {
  const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(v);
  await writeFile(path, JSON.stringify(v));
}

async function refusal(dir: string): Promise<ModelLoadError> {
  const e = await loadModel(dir).then(
    (m) => {
      m.dispose();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelLoadError);
  expect(e).toBeInstanceOf(ConfigError);
  return e as ModelLoadError;
}

/** `rows` routes of random features, route k with 1 + k % MAX_REGIONS regions (present rows flagged, the rest zero). */
function batchOf(rows: number, seed: number): Float32Array {
  const r = prng(seed);
  const x = Float32Array.from({ length: rows * OBSERVATION_SIZE }, () => r() * 2 - 1);
  for (let k = 0; k < rows; k++) {
    for (let i = 0; i < MAX_REGIONS; i++) {
      const at = (k * MAX_REGIONS + i) * ROW_SIZE;
      if (i <= k % MAX_REGIONS) x[at] = 1;
      else x.fill(0, at, at + ROW_SIZE);
    }
  }
  return x;
}

/** The MLP of seededModel in plain arithmetic on every region row, pooled as the spec pools: what any backend must compute. */
function reference(model: tf.LayersModel, x: Float32Array, rows: number): Float32Array {
  const [k1, b1, k2, b2] = model.getWeights().map((w) => w.dataSync());
  const hidden = 16;
  const perRow = new Float64Array(rows * MAX_REGIONS * MODEL_OUTPUT_SIZE);
  for (let r = 0; r < rows * MAX_REGIONS; r++) {
    const h = new Float64Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let s = b1![j]!;
      for (let i = 0; i < ROW_SIZE; i++) s += x[r * ROW_SIZE + i]! * k1![i * hidden + j]!;
      h[j] = Math.tanh(s);
    }
    for (let k = 0; k < MODEL_OUTPUT_SIZE; k++) {
      let s = b2![k]!;
      for (let j = 0; j < hidden; j++) s += h[j]! * k2![j * MODEL_OUTPUT_SIZE + k]!;
      perRow[r * MODEL_OUTPUT_SIZE + k] = s;
    }
  }
  return poolRegionOutputs(perRow, x, rows);
}

describe('saveModel and loadModel', () => {
  it('round-trip a model: the loaded one computes what the plain arithmetic of its weights does', async () => {
    const dir = fresh();
    const original = seededModel(7);
    await saveModel(original, metadata({ version: 'v7' }), dir);
    const loaded = await loadModel(dir);
    expect(loaded.metadata.version).toBe('v7');
    expect(loaded.metadata.specVersion).toBe(POLICY_SPEC_VERSION);
    const x = batchOf(5, 3);
    const y = loaded.predict(x, 5);
    const want = reference(original, x, 5);
    expect(y).toHaveLength(5 * ACTION_SIZE);
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    loaded.dispose();
    original.dispose();
  });

  it('write only model.json, weights.bin and meshpilot-model.json, and replace an existing model whole', async () => {
    const dir = fresh();
    const a = seededModel(1), b = seededModel(2);
    await saveModel(a, metadata({ version: 'first' }), dir);
    await saveModel(b, metadata({ version: 'second' }), dir);
    expect((await readdir(dir)).sort()).toEqual([MODEL_METADATA_FILE, MODEL_TOPOLOGY_FILE, MODEL_WEIGHTS_FILE].sort());
    expect((await readdir(root)).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
    const loaded = await loadModel(dir);
    expect(loaded.metadata.version).toBe('second');
    const x = batchOf(1, 9);
    const want = reference(b, x, 1);
    loaded.predict(x, 1).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    loaded.dispose();
    a.dispose();
    b.dispose();
  });

  it('refuse to save metadata or a model that loading would refuse, writing nothing', async () => {
    const dir = fresh();
    const model = seededModel(1);
    await expect(saveModel(model, metadata({ specVersion: 'meshpilot.policy/v0' }), dir)).rejects.toThrow(/specVersion/);
    const narrow = seededModel(1, 100);
    await expect(saveModel(narrow, metadata(), dir)).rejects.toThrow(/input shape.*\[null,100\].*\[null,28\]/);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
    model.dispose();
    narrow.dispose();
  });
});

describe('loadModel refuses, naming the file and the field', () => {
  it('a directory without meshpilot-model.json', async () => {
    const dir = await savedModel();
    await rm(join(dir, MODEL_METADATA_FILE));
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, MODEL_METADATA_FILE));
    expect(e.message).toContain(`${MODEL_METADATA_FILE}: missing`);
  });

  it('corrupt metadata (not JSON)', async () => {
    const dir = await savedModel();
    await writeFile(join(dir, MODEL_METADATA_FILE), '{"specVersion": "meshpilot.po');
    const e = await refusal(dir);
    expect(e.message).toMatch(new RegExp(`${MODEL_METADATA_FILE}: not valid JSON`));
  });

  it('another policy spec version', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => (m.specVersion = 'meshpilot.policy/v0'));
    const e = await refusal(dir);
    expect(e.field).toBe('specVersion');
    expect(e.message).toContain(`${MODEL_METADATA_FILE} specVersion: "meshpilot.policy/v0" is not the policy spec this operator serves ("${POLICY_SPEC_VERSION}")`);
  });

  it('a model of the previous spec version, v1, naming the version and what to do', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => Object.assign(m, { specVersion: 'meshpilot.policy/v1', observationSize: 112 }));
    const e = await refusal(dir);
    expect(e.field).toBe('specVersion');
    expect(e.message).toContain(`specVersion: "meshpilot.policy/v1" is not the policy spec this operator serves ("meshpilot.policy/v2")`);
    expect(e.message).toContain('retrain the model for it with meshpilot train');
  });

  it('metadata shapes other than the spec', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => (m.observationSize = 100));
    expect((await refusal(dir)).message).toContain(`${MODEL_METADATA_FILE} observationSize: 100; the policy spec ${POLICY_SPEC_VERSION} has ${OBSERVATION_SIZE}`);
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => {
      m.observationSize = OBSERVATION_SIZE;
      m.actionSize = 9;
    });
    expect((await refusal(dir)).field).toBe('actionSize');
  });

  it('actionStd of the wrong length or with a non-positive entry', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => (m.actionStd = [0.5, 0.5]));
    const e = await refusal(dir);
    expect(e.field).toBe('actionStd');
    expect(e.message).toContain(`expected ${ACTION_SIZE} standard deviations`);
    await editJson(join(dir, MODEL_METADATA_FILE), (m) => (m.actionStd = Array.from({ length: ACTION_SIZE }, (_, i) => (i === 3 ? 0 : 0.5))));
    expect((await refusal(dir)).field).toBe('actionStd[3]');
  });

  it('truncated weights', async () => {
    const dir = await savedModel();
    await truncate(join(dir, MODEL_WEIGHTS_FILE), 1000);
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, MODEL_WEIGHTS_FILE));
    expect(e.field).toContain('weightsManifest[0].weights');
    expect(e.message).toMatch(/hold 1000 bytes but the 4 weights listed in .*model\.json need \d+: truncated/);
  });

  it('a missing weight file', async () => {
    const dir = await savedModel();
    await rm(join(dir, MODEL_WEIGHTS_FILE));
    const e = await refusal(dir);
    expect(e.message).toContain(`${MODEL_WEIGHTS_FILE} (model.json weightsManifest[0].paths[0]): missing`);
  });

  it('a weight file outside the model directory', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_TOPOLOGY_FILE), (m) => ((m.weightsManifest as { paths: string[] }[])[0]!.paths = ['../elsewhere.bin']));
    expect((await refusal(dir)).message).toContain('model.json weightsManifest[0].paths[0]: "../elsewhere.bin" is not a file name inside the model directory');
  });

  it('NaN weights', async () => {
    const dir = await savedModel();
    const path = join(dir, MODEL_WEIGHTS_FILE);
    const bytes = await readFile(path);
    bytes.writeFloatLE(Number.NaN, 8);
    await writeFile(path, bytes);
    const e = await refusal(dir);
    expect(e.file).toBe(path);
    expect(e.message).toContain('weightsManifest[0].weights[0]');
    expect(e.message).toContain('value 2 is NaN');
  });

  it('a model.json without a topology, or that is not JSON', async () => {
    const dir = await savedModel();
    const path = join(dir, MODEL_TOPOLOGY_FILE);
    const text = await readFile(path, 'utf8');
    await editJson(path, (m) => delete m.modelTopology);
    expect((await refusal(dir)).message).toContain(`${MODEL_TOPOLOGY_FILE} modelTopology: missing`);
    await writeFile(path, text.slice(0, text.length / 2));
    expect((await refusal(dir)).message).toContain(`${MODEL_TOPOLOGY_FILE}: not valid JSON`);
  });

  it('a model whose input or output shape is not the spec’s', async () => {
    const wide = fresh();
    const m1 = seededModel(1, 100, MODEL_OUTPUT_SIZE);
    await writeUnchecked(m1, wide);
    const e1 = await refusal(wide);
    expect(e1.file).toBe(join(wide, MODEL_TOPOLOGY_FILE));
    expect(e1.message).toContain(`modelTopology.config.layers[0].config.batch_input_shape: [null,100]; a ${POLICY_SPEC_VERSION} model reads batches of region rows of ${ROW_SIZE} features`);
    const out = fresh();
    const m2 = seededModel(1, ROW_SIZE, 4);
    await writeUnchecked(m2, out);
    expect((await refusal(out)).message).toContain(`the last layer has 4 outputs; a ${POLICY_SPEC_VERSION} model has ${MODEL_OUTPUT_SIZE} per region row`);
    m1.dispose();
    m2.dispose();
  });

  it('weights that do not fit the topology', async () => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_TOPOLOGY_FILE), (m) => {
      const w = (m.weightsManifest as { weights: { name: string }[] }[])[0]!.weights;
      w[0]!.name = 'not-a-layer/kernel';
    });
    const e = await refusal(dir);
    expect(e.field).toBe('weightsManifest weight "not-a-layer/kernel"');
    expect(e.message).toContain('is not a weight of any layer of the topology');
  });

  it('a layer too large to allocate, checked before anything is: the models already loaded keep predicting', async () => {
    const good = await loadModel(await savedModel(2));
    const before = good.predict(batchOf(1, 1), 1);
    const huge = await savedModel();
    await editJson(join(huge, MODEL_TOPOLOGY_FILE), (m) => {
      ((m.modelTopology as { config: { layers: { config: { units: number } }[] } }).config.layers[0]!.config).units = 8_000_000;
    });
    const e = await refusal(huge);
    expect(e.message).toContain('modelTopology.config.layers[0].config.units: 8000000; a layer has 1 to 4096 units');
    expect(good.predict(batchOf(1, 1), 1)).toEqual(before);
    good.dispose();
  });

  it.each([
    ['a float16 NaN', { dtype: 'float16' }, 0x7e00, 'value 0 is a float16 NaN or Infinity (0x7e00)'],
    ['a uint8 scale of 1e400', { dtype: 'uint8', scale: Infinity, min: 0 }, 1, 'dequantizes to a non-finite value'],
  ])('quantized weights hiding %s', async (_what, quantization: { dtype: string; scale?: number }, raw, message) => {
    const dir = await savedModel();
    const topo = join(dir, MODEL_TOPOLOGY_FILE);
    let size = 0;
    await editJson(topo, (m) => {
      const w = (m.weightsManifest as { weights: { shape: number[]; quantization?: unknown }[] }[])[0]!.weights;
      for (const x of w) {
        x.quantization = quantization;
        size += x.shape.reduce((a, d) => a * d, 1);
      }
    });
    const width = quantization.dtype === 'float16' ? 2 : 1;
    const bytes = Buffer.alloc(size * width);
    if (width === 2) bytes.writeUInt16LE(raw, 0);
    else bytes.writeUInt8(raw, 0);
    await writeFile(join(dir, MODEL_WEIGHTS_FILE), bytes);
    // 1e400 is Infinity once JSON.parse reads it: write the text as a producer would.
    if (quantization.scale === Infinity) await writeFile(topo, (await readFile(topo, 'utf8')).replace(/"scale":null/g, '"scale":1e400'));
    expect((await refusal(dir)).message).toContain(message);
  });

  it.each([
    ['a batch size fixed at 1', (l: Record<string, unknown>) => (l.batch_input_shape = [1, ROW_SIZE]), 'batch_input_shape: [1,28]'],
    ['an int32 dtype', (l: Record<string, unknown>) => (l.dtype = 'int32'), 'config.dtype: "int32"; a policy computes in float32'],
  ])('a first layer with %s, which could never predict', async (_what, edit, message) => {
    const dir = await savedModel();
    await editJson(join(dir, MODEL_TOPOLOGY_FILE), (m) => edit((m.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[0]!.config));
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, MODEL_TOPOLOGY_FILE));
    expect(e.message).toContain(message);
  });
});

describe('LoadedModel.predict', () => {
  it('leaves no tensors behind, over many calls and batch sizes', async () => {
    const model = await loadModel(await savedModel(3));
    model.predict(batchOf(4, 1), 4);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) model.predict(batchOf(1 + (i % 50), i), 1 + (i % 50));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('computes each row as it would alone', async () => {
    const model = await loadModel(await savedModel(4));
    const x = batchOf(64, 5);
    const all = model.predict(x, 64);
    for (const r of [0, 17, 63]) {
      const one = model.predict(x.slice(r * OBSERVATION_SIZE, (r + 1) * OBSERVATION_SIZE), 1);
      one.forEach((v, k) => expect(v).toBeCloseTo(all[r * ACTION_SIZE + k]!, 5));
    }
    model.dispose();
  });

  it('refuses a short batch, and any use after dispose; dispose frees the weights and is idempotent', async () => {
    const before = tf.memory().numTensors;
    const model = await loadModel(await savedModel(5));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    expect(() => model.predict(new Float32Array(OBSERVATION_SIZE), 2)).toThrow(RangeError);
    expect(model.predict(new Float32Array(0), 0)).toHaveLength(0);
    model.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.predict(new Float32Array(OBSERVATION_SIZE), 1)).toThrow(/disposed/);
  });
});
