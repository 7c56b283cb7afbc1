// Reading a model directory from disk and checking it before tfjs sees it: the metadata
// (meshpilot-model.json), the layers-model description (model.json) and the weight files it
// lists. Every refusal is a ModelLoadError naming the file and the field, so that a route's
// condition can tell a user exactly what to fix; tfjs' own errors on such input are far less
// specific (or, for a truncated weight file, silently read garbage).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { ModelLoadError } from './load-error.ts';
import { MODEL_METADATA_FILE, MODEL_TOPOLOGY_FILE, type ModelMetadata, type WeightSpec } from './format.ts';
import { isObject } from '../../base/plain-value.ts';
import { checkTopology } from './topology.ts';

export { ModelLoadError };
import { ACTION_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION } from '../features.ts';

/** What model.json says, checked. */
export interface ModelFiles {
  metadata: ModelMetadata;
  modelTopology: object;
  /** All weights of all groups, in order. */
  weightSpecs: WeightSpec[];
  /** Their bytes, concatenated in the same order. */
  weightData: ArrayBuffer;
  format?: string;
  generatedBy?: string;
}

const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1 } as const;
const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;


async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelLoadError(path, '', code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? (e as Error).message})`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(path, '', `not valid JSON (${(e as Error).message}); truncated or corrupt?`, { cause: e });
  }
  if (!isObject(value)) throw new ModelLoadError(path, '', 'expected a JSON object');
  return value;
}

/**
 * Checks metadata as written by a trainer for the current policy spec. Throws
 * ModelLoadError naming `file` and the field.
 */
export function checkMetadata(value: Record<string, unknown>, file: string): ModelMetadata {
  const fail = (field: string, problem: string): never => {
    throw new ModelLoadError(file, field, problem);
  };
  const text = (field: keyof ModelMetadata) => {
    const v = value[field];
    if (typeof v !== 'string' || v.length === 0) fail(field, `expected a non-empty string, got ${JSON.stringify(v)}`);
    return v as string;
  };
  const specVersion = text('specVersion');
  if (specVersion !== POLICY_SPEC_VERSION) {
    const why = specVersion === 'meshpilot.policy/v1' ? ' (a v1 model reads fixed region slots and moves from the weights in force; v2 models read one row per region and are a residual on the heuristic)' : '';
    fail('specVersion', `"${specVersion}" is not the policy spec this operator serves ("${POLICY_SPEC_VERSION}")${why}; retrain the model for it with meshpilot train (npm run train for models/default)`);
  }
  if (value.observationSize !== OBSERVATION_SIZE) fail('observationSize', `${JSON.stringify(value.observationSize)}; the policy spec ${POLICY_SPEC_VERSION} has ${OBSERVATION_SIZE}`);
  if (value.actionSize !== ACTION_SIZE) fail('actionSize', `${JSON.stringify(value.actionSize)}; the policy spec ${POLICY_SPEC_VERSION} has ${ACTION_SIZE}`);
  const std = value.actionStd;
  if (!Array.isArray(std) || std.length !== ACTION_SIZE) {
    fail('actionStd', `expected ${ACTION_SIZE} standard deviations (one per action entry), got ${Array.isArray(std) ? std.length : JSON.stringify(std)}`);
  }
  (std as unknown[]).forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) fail(`actionStd[${i}]`, `${JSON.stringify(s)} is not a positive number`);
  });
  const seed = value.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) fail('seed', `expected an integer, got ${JSON.stringify(seed)}`);
  const scenarios = value.scenarios;
  if (!Array.isArray(scenarios) || scenarios.some((s) => typeof s !== 'string')) fail('scenarios', 'expected a list of scenario file names');
  return {
    specVersion,
    name: text('name'),
    version: text('version'),
    observationSize: OBSERVATION_SIZE,
    actionSize: ACTION_SIZE,
    actionStd: [...(std as number[])],
    createdAt: text('createdAt'),
    seed: seed as number,
    command: text('command'),
    scenarios: [...(scenarios as string[])],
  };
}

function checkWeightSpec(value: unknown, file: string, field: string): WeightSpec {
  const fail = (sub: string, problem: string): never => {
    throw new ModelLoadError(file, `${field}${sub}`, problem);
  };
  if (!isObject(value)) fail('', 'expected an object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name.length === 0) fail('.name', 'expected a non-empty string');
  if (!Array.isArray(v.shape) || v.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) fail('.shape', `expected a list of non-negative integers, got ${JSON.stringify(v.shape)}`);
  if (typeof v.dtype !== 'string' || !(v.dtype in DTYPE_BYTES)) fail('.dtype', `${JSON.stringify(v.dtype)} is not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  const spec: WeightSpec = { name: v.name as string, shape: [...(v.shape as number[])], dtype: v.dtype as WeightSpec['dtype'] };
  if (v.quantization !== undefined) {
    const q = v.quantization;
    if (!isObject(q) || typeof q.dtype !== 'string' || !(q.dtype in QUANTIZED_BYTES)) fail('.quantization.dtype', `expected one of ${Object.keys(QUANTIZED_BYTES).join(', ')}`);
    spec.quantization = { ...(q as object) } as WeightSpec['quantization'];
  }
  return spec;
}

function byteSize(spec: WeightSpec): number {
  const elements = spec.shape.reduce((a, d) => a * d, 1);
  return elements * (spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype]);
}

interface Group {
  paths: string[];
  weights: WeightSpec[];
}

function checkManifest(value: unknown, file: string): Group[] {
  if (!Array.isArray(value) || value.length === 0) throw new ModelLoadError(file, 'weightsManifest', 'expected a non-empty list of weight groups');
  return value.map((g: unknown, gi) => {
    const field = `weightsManifest[${gi}]`;
    if (!isObject(g)) throw new ModelLoadError(file, field, 'expected an object with paths and weights');
    if (!Array.isArray(g.paths) || g.paths.length === 0) throw new ModelLoadError(file, `${field}.paths`, 'expected a non-empty list of weight file names');
    const paths = g.paths.map((p: unknown, pi) => {
      // Weight files live in the model directory: no absolute paths, no way out of it.
      if (typeof p !== 'string' || p.length === 0 || isAbsolute(p) || normalize(p).startsWith('..')) {
        throw new ModelLoadError(file, `${field}.paths[${pi}]`, `${JSON.stringify(p)} is not a file name inside the model directory`);
      }
      return p;
    });
    if (!Array.isArray(g.weights)) throw new ModelLoadError(file, `${field}.weights`, 'expected a list of weight entries');
    return { paths, weights: g.weights.map((w: unknown, wi) => checkWeightSpec(w, file, `${field}.weights[${wi}]`)) };
  });
}

/** The group's files, concatenated; refuses missing files and a size that differs from what the weights need. */
async function readGroup(dir: string, group: Group, gi: number, topologyFile: string): Promise<{ bytes: Uint8Array; bounds: { path: string; end: number }[] }> {
  const parts: Uint8Array[] = [];
  const bounds: { path: string; end: number }[] = [];
  let size = 0;
  for (const [pi, p] of group.paths.entries()) {
    const path = join(dir, p);
    try {
      const buf = await readFile(path);
      parts.push(buf);
      size += buf.byteLength;
      bounds.push({ path, end: size });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelLoadError(path, `(${MODEL_TOPOLOGY_FILE} weightsManifest[${gi}].paths[${pi}])`, code === 'ENOENT' ? 'missing' : `cannot be read (${code})`, { cause: e });
    }
  }
  const need = group.weights.reduce((a, w) => a + byteSize(w), 0);
  if (size !== need) {
    const last = bounds[bounds.length - 1]!.path;
    throw new ModelLoadError(
      last,
      `(${MODEL_TOPOLOGY_FILE} weightsManifest[${gi}].weights)`,
      `the weight files of group ${gi} hold ${size} bytes but the ${group.weights.length} weights listed in ${topologyFile} need ${need}: ${size < need ? 'truncated' : 'corrupt (too long)'}`,
    );
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return { bytes, bounds };
}

/**
 * The index of the first value of weight `w` (its stored bytes) that is not finite once
 * dequantized, or -1. float16 stores NaN and ±Infinity with every exponent bit set; uint8 and
 * uint16 dequantize to `q * scale + min`, finite for every q when scale and min are.
 */
function firstNonFinite(stored: Uint8Array, w: WeightSpec): number {
  const q = w.quantization;
  if (!q) {
    if (w.dtype !== 'float32') return -1;
    return new Float32Array(stored.slice().buffer).findIndex((x) => !Number.isFinite(x));
  }
  if (q.dtype === 'float16') {
    const halves = new Uint16Array(stored.slice().buffer);
    return halves.findIndex((h) => (h & 0x7c00) === 0x7c00);
  }
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  const top = q.dtype === 'uint8' ? 255 : 65535;
  return [scale, min, top * scale + min].every(Number.isFinite) ? -1 : 0;
}

/** Refuses weights with NaN or infinite values (a diverged training run, a corrupt quantization), naming the file and the weight. */
function checkFinite(bytes: Uint8Array, group: Group, gi: number, bounds: { path: string; end: number }[]): void {
  let offset = 0;
  group.weights.forEach((w, wi) => {
    const n = byteSize(w);
    const bad = firstNonFinite(bytes.subarray(offset, offset + n), w);
    if (bad >= 0) {
      const width = w.quantization ? QUANTIZED_BYTES[w.quantization.dtype] : DTYPE_BYTES[w.dtype];
      const at = offset + bad * width;
      const path = bounds.find((b) => at < b.end)?.path ?? bounds[bounds.length - 1]!.path;
      const stored = bytes.subarray(offset, offset + n);
      const what = !w.quantization
        ? `value ${bad} is ${new Float32Array(stored.slice().buffer)[bad]}`
        : w.quantization.dtype === 'float16'
          ? `value ${bad} is a float16 NaN or Infinity (0x${new Uint16Array(stored.slice().buffer)[bad]!.toString(16)})`
          : `its quantization (scale ${w.quantization.scale}, min ${w.quantization.min}) dequantizes to a non-finite value`;
      throw new ModelLoadError(path, `(${MODEL_TOPOLOGY_FILE} weightsManifest[${gi}].weights[${wi}] "${w.name}")`, `${what}: the weights are corrupt`);
    }
    offset += n;
  });
}

/**
 * Reads and checks the model in `dir`: meshpilot-model.json (spec version, shapes, actionStd),
 * model.json (a layers model with a weights manifest) and every weight file it lists (present,
 * exactly as long as the manifest needs, finite). Throws ModelLoadError naming file and field.
 */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const metaPath = join(dir, MODEL_METADATA_FILE);
  const metadata = checkMetadata(await readJson(metaPath), metaPath);
  const topoPath = join(dir, MODEL_TOPOLOGY_FILE);
  const topo = await readJson(topoPath);
  if (topo.format !== undefined && topo.format !== 'layers-model') {
    throw new ModelLoadError(topoPath, 'format', `${JSON.stringify(topo.format)}: a policy model is a tfjs layers model ("layers-model")`);
  }
  if (!isObject(topo.modelTopology)) throw new ModelLoadError(topoPath, 'modelTopology', 'missing or not an object');
  const groups = checkManifest(topo.weightsManifest, topoPath);
  // Before a byte of weights is read or a tensor allocated: the layers bound what tfjs builds.
  checkTopology(topo.modelTopology, groups.flatMap((g) => g.weights), topoPath);
  const datas: Uint8Array[] = [];
  for (const [gi, group] of groups.entries()) {
    const { bytes, bounds } = await readGroup(dir, group, gi, topoPath);
    checkFinite(bytes, group, gi, bounds);
    datas.push(bytes);
  }
  const total = datas.reduce((a, d) => a + d.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const d of datas) {
    all.set(d, at);
    at += d.byteLength;
  }
  const files: ModelFiles = { metadata, modelTopology: topo.modelTopology, weightSpecs: groups.flatMap((g) => g.weights), weightData: all.buffer };
  if (typeof topo.format === 'string') files.format = topo.format;
  if (typeof topo.generatedBy === 'string') files.generatedBy = topo.generatedBy;
  return files;
}
