import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, backendSelection, ensureBackend } from '../../../operator/policy/backend.ts';

describe('ensureBackend', () => {
  it('activates native TensorFlow or wasm (cpu is only the last resort) and says why it passed over the others', async () => {
    const backend = await ensureBackend();
    expect(BACKENDS).toContain(backend);
    expect(backend).not.toBe('cpu');
    expect(tf.getBackend()).toBe(backend);
    const { skipped } = await backendSelection();
    if (backend !== 'tensorflow') expect(skipped[0]).toMatch(/^tensorflow: .*tfjs-node/);
  });

  it('is idempotent, and makes its choice active again when something switched tfjs', async () => {
    const first = await ensureBackend();
    await tf.setBackend('cpu');
    expect(await ensureBackend()).toBe(first);
    expect(tf.getBackend()).toBe(first);
  });
});
