// A policy model in memory: loaded from a model directory through our own IOHandler (tfjs
// without tfjs-node has no file:// loader, and reading the files ourselves lets every refusal
// name its file and field), checked against the policy spec, and run on whole batches of
// observations. Also the writer the trainer uses, which replaces a model directory atomically
// so that a running operator never loads half a model.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../backend.ts';
import { checkMetadata, ModelLoadError, readModelFiles } from './files.ts';
import { MODEL_METADATA_FILE, MODEL_TOPOLOGY_FILE, type ModelMetadata } from './format.ts';
import { MAX_REGIONS, MODEL_OUTPUT_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION, ROW_SIZE, poolRegionOutputs } from '../features.ts';
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';

/** The single weights file saveModel writes. */
export const MODEL_WEIGHTS_FILE = 'weights.bin';

export interface LoadedModel {
  /** The directory it was loaded from. */
  readonly dir: string;
  readonly metadata: ModelMetadata;
  /**
   * The action means for `rows` observations laid out row after row in `batch` (at least
   * rows × OBSERVATION_SIZE floats): rows × ACTION_SIZE floats, row after row. One forward
   * pass over every region row of the batch, pooled per route (poolRegionOutputs); every
   * tensor it creates is disposed before it returns. Throws RangeError for a short batch and
   * Error after dispose().
   */
  predict(batch: Float32Array, rows: number): Float32Array;
  /** Frees the model's weights. Idempotent. */
  dispose(): void;
}

function shapeProblem(model: tf.LayersModel): { field: string; problem: string } | undefined {
  const need = (size: number) => `[null,${size}]`;
  const show = (shape: readonly (number | null)[]) => JSON.stringify(shape);
  if (model.inputs.length !== 1) return { field: 'modelTopology', problem: `${model.inputs.length} inputs; a policy model has one, of shape ${need(ROW_SIZE)}` };
  if (model.outputs.length !== 1) return { field: 'modelTopology', problem: `${model.outputs.length} outputs; a policy model has one, of shape ${need(MODEL_OUTPUT_SIZE)}` };
  const input = model.inputs[0]!.shape, output = model.outputs[0]!.shape;
  if (input.length !== 2 || input[1] !== ROW_SIZE) {
    return { field: 'modelTopology (input shape)', problem: `${show(input)}; the policy spec ${POLICY_SPEC_VERSION} needs ${need(ROW_SIZE)} (one row per region)` };
  }
  if (output.length !== 2 || output[1] !== MODEL_OUTPUT_SIZE) {
    return { field: 'modelTopology (output shape)', problem: `${show(output)}; the policy spec ${POLICY_SPEC_VERSION} needs ${need(MODEL_OUTPUT_SIZE)}` };
  }
  return undefined;
}

class TfjsPolicyModel implements LoadedModel {
  readonly dir: string;
  readonly metadata: ModelMetadata;
  #model: tf.LayersModel | undefined;

  constructor(dir: string, metadata: ModelMetadata, model: tf.LayersModel) {
    this.dir = dir;
    this.metadata = metadata;
    this.#model = model;
  }

  predict(batch: Float32Array, rows: number): Float32Array {
    const model = this.#model;
    if (!model) throw new MeshpilotError(ERROR_CODES.INTERNAL, `model ${this.dir} was disposed`);
    if (!Number.isInteger(rows) || rows < 0 || batch.length < rows * OBSERVATION_SIZE) {
      throw new RangeError(`predict: ${rows} rows need ${rows * OBSERVATION_SIZE} floats, the batch has ${batch.length}`);
    }
    if (rows === 0) return new Float32Array(0);
    // predictOnBatch: one pass (predict() would cut the batch into slices of 32). The tensor,
    // not its values, leaves tidy: tidy walks whatever it returns, element by element.
    const observations = batch.subarray(0, rows * OBSERVATION_SIZE);
    // Only the routes' present rows go through the network (most routes have fewer than
    // MAX_REGIONS regions); absent rows' outputs stay 0 and the pooling skips them anyway.
    const present: number[] = [];
    for (let row = 0; row < rows * MAX_REGIONS; row++) if (observations[row * ROW_SIZE] === 1) present.push(row);
    const input = new Float32Array(present.length * ROW_SIZE);
    present.forEach((row, k) => input.set(observations.subarray(row * ROW_SIZE, (row + 1) * ROW_SIZE), k * ROW_SIZE));
    const outputs = new Float32Array(rows * MAX_REGIONS * MODEL_OUTPUT_SIZE);
    if (present.length > 0) {
      const y = tf.tidy(() => model.predictOnBatch(tf.tensor2d(input, [present.length, ROW_SIZE])) as tf.Tensor);
      try {
        const values = y.dataSync() as Float32Array;
        present.forEach((row, k) => outputs.set(values.subarray(k * MODEL_OUTPUT_SIZE, (k + 1) * MODEL_OUTPUT_SIZE), row * MODEL_OUTPUT_SIZE));
      } finally {
        y.dispose();
      }
    }
    return poolRegionOutputs(outputs, observations, rows);
  }

  dispose(): void {
    this.#model?.dispose();
    this.#model = undefined;
  }
}

/**
 * Loads the model in `dir` (see files.ts for what is checked) on the backend
 * ensureBackend chose, and checks that it maps a region row [ROW_SIZE] to [MODEL_OUTPUT_SIZE]. Throws
 * ModelLoadError (a ConfigError) naming the file and the field for anything wrong with the
 * directory.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  await ensureBackend();
  const files = await readModelFiles(dir);
  const topoPath = join(dir, MODEL_TOPOLOGY_FILE);
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: files.modelTopology,
      weightSpecs: files.weightSpecs,
      weightData: files.weightData,
      format: files.format ?? 'layers-model',
      ...(files.generatedBy !== undefined ? { generatedBy: files.generatedBy } : {}),
    }),
  };
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(handler, { strict: true });
  } catch (e) {
    throw new ModelLoadError(topoPath, 'modelTopology', `tfjs cannot build the model from it: ${(e as Error).message}`, { cause: e });
  }
  const problem = shapeProblem(model);
  if (problem) {
    model.dispose();
    throw new ModelLoadError(topoPath, problem.field, problem.problem);
  }
  return new TfjsPolicyModel(dir, files.metadata, model);
}

async function writeArtifacts(artifacts: tf.io.ModelArtifacts, metadata: ModelMetadata, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: [MODEL_WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  await writeFile(join(dir, MODEL_WEIGHTS_FILE), weights);
  await writeFile(join(dir, MODEL_TOPOLOGY_FILE), `${JSON.stringify(modelJson)}\n`);
  await writeFile(join(dir, MODEL_METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
}

/**
 * Writes `model` and `metadata` as the model directory `dir` (model.json, weights.bin,
 * meshpilot-model.json): first into a sibling temp directory, then renamed into place, so a
 * reader sees the old model or the new one, never a mix (an old `dir` is moved aside and
 * removed; between the two renames a reader may briefly find no model, which the registry
 * reports and retries when the directory appears). Refuses, with a ConfigError and before writing anything, metadata or a model
 * that loadModel would refuse.
 */
export async function saveModel(model: tf.LayersModel, metadata: ModelMetadata, dir: string): Promise<void> {
  checkMetadata(metadata as unknown as Record<string, unknown>, `${basename(dir)}/${MODEL_METADATA_FILE}`);
  const problem = shapeProblem(model);
  if (problem) throw new ModelLoadError(`${basename(dir)}/${MODEL_TOPOLOGY_FILE}`, problem.field, problem.problem);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const parent = dirname(dir);
  const tag = randomUUID().slice(0, 8);
  const temp = join(parent, `.${basename(dir)}.tmp-${tag}`);
  const old = join(parent, `.${basename(dir)}.old-${tag}`);
  await mkdir(parent, { recursive: true });
  try {
    await writeArtifacts(artifacts!, metadata, temp);
    let moved = false;
    try {
      await rename(dir, old);
      moved = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      await rename(temp, dir);
    } catch (e) {
      if (moved) await rename(old, dir);
      throw e;
    }
    if (moved) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
