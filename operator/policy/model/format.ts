// What a trained model is on disk, shared by the trainer that writes it and the operator that
// loads it: a directory with a tfjs layers model (model.json + its weight files) mapping an
// observation vector to the mean of the action vector, and meshpilot-model.json saying which
// policy spec it was trained for and how. A directory without the metadata, or with another
// spec version, or whose shapes differ from the spec's, is not a meshpilot model.
import { ACTION_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION } from '../features.ts';

export const MODEL_METADATA_FILE = 'meshpilot-model.json';
export const MODEL_TOPOLOGY_FILE = 'model.json';

export interface ModelMetadata {
  /** The policy spec the model reads and writes (POLICY_SPEC_VERSION when trained). */
  specVersion: string;
  /** Directory name under models/ (what spec.policy.modelRef.name names). */
  name: string;
  /** Unique per training run, e.g. "default-2026-11-24-seed7"; shown in route status. */
  version: string;
  observationSize: number;
  actionSize: number;
  /** Standard deviation of the Gaussian policy per action entry at the end of training (for action probabilities). */
  actionStd: number[];
  createdAt: string;
  seed: number;
  /** The command that reproduces the model. */
  command: string;
  /** Scenario files it was trained on. */
  scenarios: string[];
}

/** The metadata a trainer writes for a model of the current spec. */
export function currentSpecShape(): Pick<ModelMetadata, 'specVersion' | 'observationSize' | 'actionSize'> {
  return { specVersion: POLICY_SPEC_VERSION, observationSize: OBSERVATION_SIZE, actionSize: ACTION_SIZE };
}

/** One weight tensor as model.json's weightsManifest lists it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}
