// Which tfjs backend runs the policy. @tensorflow/tfjs-node (native TensorFlow) when it is
// installed and works — it cannot be installed on every machine (its install downloads
// libtensorflow) and 4.22 breaks on Node ≥ 23 — else @tensorflow/tfjs with the wasm backend,
// else tfjs' pure-JS cpu backend as the last resort. All three compute the same float32
// results to within rounding (test/unit/policy/backend.test.ts checks the one in use against
// plain arithmetic). The backend is process-wide state of tfjs itself, so the choice is made
// once per process and shared.
import * as tf from '@tensorflow/tfjs';
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';

export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendSelection {
  backend: BackendName;
  /** Why the faster backends were passed over, in words (empty when the first choice works). */
  skipped: string[];
}

// A variable, not a literal: the optional package has no types and must not be resolved at compile time.
const NATIVE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

let selection: Promise<BackendSelection> | undefined;

/** True when `name` is registered, becomes active and computes 1 + 2 = 3. */
async function activate(name: BackendName): Promise<boolean> {
  if (!tf.findBackendFactory(name)) return false;
  if (!(await tf.setBackend(name))) return false;
  await tf.ready();
  const sum = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
  return tf.getBackend() === name && sum === 3;
}

async function tryBackend(name: BackendName, load: () => Promise<unknown>, skipped: string[]): Promise<boolean> {
  try {
    await load();
    if (await activate(name)) return true;
    skipped.push(`${name}: the backend did not initialise`);
  } catch (e) {
    skipped.push(`${name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  return false;
}

async function select(): Promise<BackendSelection> {
  const skipped: string[] = [];
  if (await tryBackend('tensorflow', () => import(NATIVE_PACKAGE), skipped)) return { backend: 'tensorflow', skipped };
  if (await tryBackend('wasm', () => import(WASM_PACKAGE), skipped)) return { backend: 'wasm', skipped };
  if (await tryBackend('cpu', async () => undefined, skipped)) return { backend: 'cpu', skipped };
  throw new MeshpilotError(ERROR_CODES.BACKEND_UNAVAILABLE, `no tfjs backend works: ${skipped.join('; ')}; reinstall with npm ci so that @tensorflow/tfjs-node or @tensorflow/tfjs-backend-wasm is present`);
}

/**
 * Selects and activates the tfjs backend (see the module comment). Idempotent: every call
 * returns the first call's choice (and makes it active again if something switched tfjs
 * since); a failed selection is retried by the next call. Rejects
 * only when not even the cpu backend works.
 */
export async function ensureBackend(): Promise<BackendName> {
  const { backend } = await backendSelection();
  // Something else in the process (a trainer, a test) may have switched tfjs since.
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  return backend;
}

/** As ensureBackend, with the reasons the faster backends were passed over (for a start-up log line). */
export function backendSelection(): Promise<BackendSelection> {
  if (!selection) {
    selection = select();
    selection.catch(() => {
      selection = undefined;
    });
  }
  return selection;
}
