// What a policy model's layers may be, checked before tfjs builds anything: tfjs allocates
// every layer's weights from model.json's config before it compares them with the weight
// files, so `units: 8000000` costs gigabytes of a wasm heap that never shrinks, and breaks
// every other model of the process. Here a model is a Sequential stack of Dense (and shape-
// preserving Activation/Dropout) layers from one region's row (ROW_SIZE inputs) to its
// MODEL_OUTPUT_SIZE outputs (features.ts);
// every weight the layers imply must be in the weights manifest with that exact shape, and
// none else; and the whole is bounded in size.
import { isObject } from '../../base/plain-value.ts';
import type { WeightSpec } from './format.ts';
import { ModelLoadError } from './load-error.ts';
import { MODEL_OUTPUT_SIZE, POLICY_SPEC_VERSION, ROW_SIZE } from '../features.ts';

/** The widest layer a policy may have, and the most parameters in all. */
export const MAX_UNITS = 4096;
export const MAX_PARAMETERS = 4_000_000;

const SHAPE_PRESERVING = new Set(['Activation', 'Dropout']);

/**
 * Checks `topology` (model.json's modelTopology) against `weights` (its manifest). Throws
 * ModelLoadError naming `file` and the field. Pure.
 */
export function checkTopology(topology: Record<string, unknown>, weights: readonly WeightSpec[], file: string): void {
  const fail = (field: string, problem: string): never => {
    throw new ModelLoadError(file, `modelTopology${field}`, problem);
  };
  if (topology.class_name !== 'Sequential') fail('.class_name', `${JSON.stringify(topology.class_name)}: a policy model is a Sequential stack of layers`);
  const config = topology.config;
  const layers = isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0) fail('.config.layers', 'expected a non-empty list of layers');
  const expected = new Map<string, number[]>();
  let width = ROW_SIZE;
  let parameters = 0;
  (layers as unknown[]).forEach((layer, i) => {
    const at = `.config.layers[${i}]`;
    if (!isObject(layer) || !isObject(layer.config)) fail(at, 'expected {class_name, config}');
    const { class_name: kind, config: c } = layer as { class_name: unknown; config: Record<string, unknown> };
    if (i === 0) {
      const input = c.batch_input_shape ?? (Array.isArray(c.input_shape) ? [null, ...c.input_shape] : undefined);
      if (!Array.isArray(input) || input.length !== 2 || input[0] !== null || input[1] !== ROW_SIZE) {
        fail(`${at}.config.batch_input_shape`, `${JSON.stringify(input)}; a ${POLICY_SPEC_VERSION} model reads batches of region rows of ${ROW_SIZE} features: [null, ${ROW_SIZE}]`);
      }
    } else if (c.batch_input_shape !== undefined || c.input_shape !== undefined) {
      fail(`${at}.config.batch_input_shape`, 'only the first layer may declare an input shape');
    }
    if (c.dtype !== undefined && c.dtype !== 'float32') fail(`${at}.config.dtype`, `${JSON.stringify(c.dtype)}; a policy computes in float32`);
    if (SHAPE_PRESERVING.has(kind as string)) return;
    if (kind !== 'Dense') fail(`${at}.class_name`, `${JSON.stringify(kind)}: a policy layer is Dense, Activation or Dropout`);
    const name = c.name;
    if (typeof name !== 'string' || name.length === 0) fail(`${at}.config.name`, 'expected a non-empty string');
    const units = c.units;
    if (!Number.isInteger(units) || (units as number) < 1 || (units as number) > MAX_UNITS) {
      fail(`${at}.config.units`, `${JSON.stringify(units)}; a layer has 1 to ${MAX_UNITS} units`);
    }
    const bias = c.use_bias ?? true;
    if (typeof bias !== 'boolean') fail(`${at}.config.use_bias`, 'expected true or false');
    for (const [weight, shape] of [[`${name}/kernel`, [width, units as number]], ...(bias ? [[`${name}/bias`, [units as number]]] : [])] as [string, number[]][]) {
      if (expected.has(weight)) fail(`${at}.config.name`, `"${name}" names two layers`);
      expected.set(weight, shape);
    }
    parameters += width * (units as number) + (bias ? (units as number) : 0);
    width = units as number;
  });
  if (width !== MODEL_OUTPUT_SIZE) fail(`.config.layers[${(layers as unknown[]).length - 1}]`, `the last layer has ${width} outputs; a ${POLICY_SPEC_VERSION} model has ${MODEL_OUTPUT_SIZE} per region row`);
  if (parameters > MAX_PARAMETERS) fail('.config.layers', `${parameters} parameters; a policy model has at most ${MAX_PARAMETERS}`);
  for (const w of weights) {
    const shape = expected.get(w.name);
    if (!shape) throw new ModelLoadError(file, `weightsManifest weight "${w.name}"`, 'is not a weight of any layer of the topology');
    if (JSON.stringify(shape) !== JSON.stringify(w.shape)) {
      throw new ModelLoadError(file, `weightsManifest weight "${w.name}"`, `has shape ${JSON.stringify(w.shape)}; its layer needs ${JSON.stringify(shape)}`);
    }
    if (w.dtype !== 'float32') throw new ModelLoadError(file, `weightsManifest weight "${w.name}"`, `has dtype ${w.dtype}; a policy's weights are float32`);
    expected.delete(w.name);
  }
  const missing = [...expected.keys()];
  if (missing.length > 0) throw new ModelLoadError(file, 'weightsManifest', `lacks the weights ${missing.map((m) => `"${m}"`).join(', ')} that the topology's layers need`);
}
