import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../operator/policy/model/loaded-model.ts';
import { ACTION_SIZE, OBSERVATION_SIZE, POLICY_SPEC_VERSION, encodeObservation } from '../../../operator/policy/features.ts';
import { regionObs, routeObs } from './fixtures.ts';

const DEFAULT_MODEL = fileURLToPath(new URL('../../../models/default', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('models/default', () => {
  it('loads under the current policy spec and decides finite actions', async () => {
    const model = await loadModel(DEFAULT_MODEL);
    try {
      expect(model.metadata).toMatchObject({ name: 'default', specVersion: POLICY_SPEC_VERSION, seed: 2 });
      // What `npm run train` runs is what made the shipped model.
      expect(model.metadata.command).toBe(PACKAGE.scripts.train!.replace(/^node operator\/cli\.ts /, 'meshpilot '));
      const batch = new Float32Array(2 * OBSERVATION_SIZE);
      encodeObservation(routeObs([regionObs('eu-west', 60), regionObs('us-east', 40)]), batch, 0);
      encodeObservation(
        routeObs([regionObs('eu-west', 30), regionObs('us-east', 20), regionObs('ap-south', 20), regionObs('sa-east', 10), regionObs('me-central', 10), regionObs('af-south', 10)]),
        batch,
        OBSERVATION_SIZE,
      );
      const out = model.predict(batch, 2);
      expect(out).toHaveLength(2 * ACTION_SIZE);
      for (const v of out) expect(Number.isFinite(v)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
