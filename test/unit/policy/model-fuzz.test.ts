// Property test of model loading: a model.json with any of its numbers, shapes, dtypes or
// quantizations changed is refused with a ModelLoadError naming the file, or loads and predicts
// finite actions; either way, a model loaded before keeps predicting exactly as it did.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../../../operator/policy/backend.ts';
import { loadModel, saveModel, type LoadedModel } from '../../../operator/policy/model/loaded-model.ts';
import { ModelLoadError } from '../../../operator/policy/model/files.ts';
import { MODEL_TOPOLOGY_FILE } from '../../../operator/policy/model/format.ts';
import { OBSERVATION_SIZE } from '../../../operator/policy/features.ts';
import { metadata, seededModel } from './fixtures.ts';

let root: string;
let base: string;
let witness: LoadedModel;
const input = Float32Array.from({ length: OBSERVATION_SIZE }, (_, i) => Math.sin(i));

beforeAll(async () => {
  await ensureBackend();
  root = await mkdtemp(join(tmpdir(), 'meshpilot-model-fuzz-'));
  base = join(root, 'base');
  const m = seededModel(1);
  await saveModel(m, metadata(), base);
  m.dispose();
  witness = await loadModel(base);
});
afterAll(async () => {
  witness.dispose();
  await rm(root, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
const odd = fc.constantFrom<unknown>(0, -1, 1, 2, 16, 112, 4097, 8_000_000, 1e308, 0.5, null, 'x', [], [null, 112], [1, 112], [null, 100], 'int32', 'float16', 'bool');
const mutation = fc.oneof(
  fc.record({ layer: fc.integer({ min: 0, max: 2 }), key: fc.constantFrom('units', 'batch_input_shape', 'dtype', 'use_bias', 'name'), value: odd }).map((m) => (t: Json) => {
    const layers = ((t.modelTopology as Json).config as { layers: { config: Json }[] }).layers;
    if (layers[m.layer]) layers[m.layer]!.config[m.key] = m.value;
  }),
  fc.record({ weight: fc.integer({ min: 0, max: 5 }), key: fc.constantFrom('shape', 'dtype', 'quantization', 'name'), value: fc.oneof(odd, fc.constantFrom({ dtype: 'float16' }, { dtype: 'uint8', scale: 1e308, min: 1e308 }, { dtype: 'uint16' })) }).map(
    (m) => (t: Json) => {
      const weights = (t.weightsManifest as { weights: Json[] }[])[0]!.weights;
      if (weights[m.weight]) weights[m.weight]![m.key] = m.value;
    },
  ),
  fc.constantFrom('Conv2D', 'LSTM', 'Functional', 'Model').map((kind) => (t: Json) => {
    (t.modelTopology as Json).class_name = kind;
  }),
);

describe('model loading, fuzzed', () => {
  it('refuses with the file named, or predicts finite actions; a loaded model is never disturbed', async () => {
    const before = witness.predict(input, 1);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const dir = join(root, `m${n++}`);
        await cp(base, dir, { recursive: true });
        const topo = JSON.parse(await readFile(join(dir, MODEL_TOPOLOGY_FILE), 'utf8')) as Json;
        for (const m of mutations) m(topo);
        await writeFile(join(dir, MODEL_TOPOLOGY_FILE), JSON.stringify(topo));
        const tensors = tf.memory().numTensors;
        try {
          const model = await loadModel(dir);
          expect(model.predict(input, 1).every(Number.isFinite)).toBe(true);
          model.dispose();
        } catch (e) {
          expect(e).toBeInstanceOf(ModelLoadError);
          expect((e as ModelLoadError).file.startsWith(dir)).toBe(true);
        }
        expect(tf.memory().numTensors).toBe(tensors);
        expect(witness.predict(input, 1)).toEqual(before);
      }),
      { seed: 20261207, numRuns: 60 },
    );
  });
});
