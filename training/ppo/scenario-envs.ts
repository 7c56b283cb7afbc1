// The EnvFactory for training on the simulator: every scenario file of a directory becomes one
// variant, a MeshSimEnv; each rollout thread builds its own from the same files.
import { MeshSimEnv, type MeshSimEnvOptions } from '../sim/mesh-sim-env.ts';
import type { RewardWeights } from '../sim/reward.ts';
import { loadScenarios } from '../sim/scenario-loader.ts';
import type { EnvSource, EnvVariant } from './env-source.ts';

export const SIM_GUARDS = ['serving', 'none'] as const;
export type SimGuard = (typeof SIM_GUARDS)[number];

export interface ScenarioEnvOptions {
  scenarioDir: string;
  /** 'serving': actions pass serving's safety guard before they take effect, as they will in the operator. */
  guard: SimGuard;
  reward?: Partial<RewardWeights>;
}

export async function createScenarioEnvs(options: ScenarioEnvOptions): Promise<EnvVariant[]> {
  const scenarios = await loadScenarios(options.scenarioDir);
  const envOptions: MeshSimEnvOptions = { guard: options.guard, ...(options.reward ? { reward: options.reward } : {}) };
  return scenarios.map((s) => ({ name: s.name, env: new MeshSimEnv(s, envOptions) }));
}

export function scenarioEnvSource(options: ScenarioEnvOptions): EnvSource {
  return { module: new URL('./scenario-envs.ts', import.meta.url).href, exportName: 'createScenarioEnvs', options };
}
