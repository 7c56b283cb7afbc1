// How a rollout worker gets its environments: it cannot receive objects, only a module to
// import and plain options for the factory that module exports. The main thread loads the same
// source to learn the variant names (scenarios) episodes are drawn from.
import type { PolicyEnv } from '../env.ts';
import { ConfigError } from '../../operator/base/errors.ts';

/** One kind of episode the mixture draws from (a scenario of the simulator, a toy setting). */
export interface EnvVariant {
  name: string;
  env: PolicyEnv;
}

/** What a module named by an EnvSource exports under `exportName`. Called once per thread. */
export type EnvFactory = (options: unknown) => EnvVariant[] | Promise<EnvVariant[]>;

export interface EnvSource {
  /** A file:// URL (or absolute path) of an ES module, importable from a worker thread. */
  module: string;
  exportName: string;
  /** Structured-cloneable options for the factory. */
  options: unknown;
}

/** Imports the factory and builds the variants; throws ConfigError naming the module when it does not fit. */
export async function loadEnvVariants(source: EnvSource): Promise<EnvVariant[]> {
  const mod = (await import(source.module)) as Record<string, unknown>;
  const factory = mod[source.exportName];
  if (typeof factory !== 'function') {
    throw new ConfigError(`environment source ${source.module}: export ${source.exportName} is not a function`);
  }
  const variants = await (factory as EnvFactory)(source.options);
  if (!Array.isArray(variants) || variants.length === 0) {
    throw new ConfigError(`environment source ${source.module}: ${source.exportName} returned no environments`);
  }
  return variants;
}
