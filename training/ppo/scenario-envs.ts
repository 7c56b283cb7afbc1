// The EnvFactory for training on the simulator: every scenario file of a directory, and every
// scenario a generator seed draws, becomes one variant, a MeshSimEnv; each rollout thread
// builds its own from the same files and the same seed (the generator is deterministic).
import { generateScenario, type GeneratorVersion } from '../generate/scenario-generator.ts';
import { MeshSimEnv, type MeshSimEnvOptions } from '../sim/mesh-sim-env.ts';
import type { RewardWeights } from '../sim/reward.ts';
import { loadScenarios, validateScenario, type Scenario } from '../sim/scenario-loader.ts';
import type { EnvSource, EnvVariant } from './env-source.ts';

export const SIM_GUARDS = ['serving', 'none'] as const;
export type SimGuard = (typeof SIM_GUARDS)[number];

/** Generated meshes to train on besides the directory's: scenarios 0..count-1 of `seed`. */
export interface GeneratedSet {
  seed: number;
  count: number;
  generator: GeneratorVersion;
}

export interface ScenarioEnvOptions {
  scenarioDir: string;
  generated?: GeneratedSet | null;
  /** 'serving': actions pass serving's safety guard before they take effect, as they will in the operator. */
  guard: SimGuard;
  reward?: Partial<RewardWeights>;
}

/** The directory's scenarios, then the generated ones, in that order (the variants' order). */
export async function trainingScenarios(scenarioDir: string, generated?: GeneratedSet | null): Promise<Scenario[]> {
  const named = await loadScenarios(scenarioDir);
  if (!generated) return named;
  const drawn = Array.from({ length: generated.count }, (_, i) => {
    const g = generateScenario(generated.seed, i, generated.generator);
    return validateScenario(g.doc, g.file);
  });
  return [...named, ...drawn];
}

export async function createScenarioEnvs(options: ScenarioEnvOptions): Promise<EnvVariant[]> {
  const scenarios = await trainingScenarios(options.scenarioDir, options.generated);
  const envOptions: MeshSimEnvOptions = { guard: options.guard, ...(options.reward ? { reward: options.reward } : {}) };
  return scenarios.map((s) => ({ name: s.name, env: new MeshSimEnv(s, envOptions) }));
}

export function scenarioEnvSource(options: ScenarioEnvOptions): EnvSource {
  return { module: new URL('./scenario-envs.ts', import.meta.url).href, exportName: 'createScenarioEnvs', options };
}
