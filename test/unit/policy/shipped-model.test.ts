import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../operator/policy/model.ts';
import { ACTION_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION, encodeObservation } from '../../../operator/policy/spec.ts';
import { regionObs, routeObs } from './fixtures.ts';

const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/default', import.meta.url));

describe('models/default', () => {
  it('loads under the current policy spec and decides finite actions', async () => {
    const model = await loadModel(DEFAULT_MODEL);
    try {
      expect(model.metadata).toMatchObject({ name: 'default', specVersion: POLICY_SPEC_VERSION, seed: 2 });
      expect(model.metadata.command).toBe('meshpilot train --scenarios training/scenarios --out models/default --seed 2 --iterations 400');
      const batch = new Float32Array(2 * OBSERVATION_SIZE);
      encodeObservation(routeObs([regionObs('eu-west', 60), regionObs('us-east', 40)]), batch, 0);
      encodeObservation(routeObs([regionObs('eu-west', 50), regionObs('us-east', 30), regionObs('ap-south', 20)]), batch, OBSERVATION_SIZE);
      const out = model.predict(batch, 2);
      expect(out).toHaveLength(2 * ACTION_SIZE);
      for (const v of out) expect(Number.isFinite(v)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
