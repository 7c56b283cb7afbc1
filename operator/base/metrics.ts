// Get-or-create access to prom-client metrics on an injected Registry, for every layer of the
// operator (hence here, at the bottom of the import graph). Several instances of
// one component (two informers, two work queues) share a metric family distinguished by
// labels; prom-client refuses to register a name twice, so each family is created once per
// registry and reused afterwards.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Config<L extends string> = { name: string; help: string; labelNames: readonly L[] };

/** The counter `name` on `registry`, created on first use. Throws if `name` is registered as another type. */
export function counter<L extends string>(registry: Registry, config: Config<L>): Counter<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) {
    if (!(existing instanceof Counter)) throw new TypeError(`metric ${config.name} is registered as another type`);
    return existing as Counter<L>;
  }
  return new Counter({ ...config, labelNames: [...config.labelNames], registers: [registry] });
}

/**
 * The gauge `name` on `registry`, created on first use; `collect` (run at every scrape) is
 * only installed by the call that creates it. Throws if `name` is registered as another type.
 */
export function gauge<L extends string>(
  registry: Registry,
  config: Config<L> & { collect?: (this: Gauge<L>) => void },
): Gauge<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) {
    if (!(existing instanceof Gauge)) throw new TypeError(`metric ${config.name} is registered as another type`);
    return existing as Gauge<L>;
  }
  return new Gauge({ ...config, labelNames: [...config.labelNames], registers: [registry] });
}

/** The histogram `name` on `registry`, created on first use. Throws if `name` is registered as another type. */
export function histogram<L extends string>(
  registry: Registry,
  config: Config<L> & { buckets: number[] },
): Histogram<L> {
  const existing = registry.getSingleMetric(config.name);
  if (existing) {
    if (!(existing instanceof Histogram)) throw new TypeError(`metric ${config.name} is registered as another type`);
    return existing as Histogram<L>;
  }
  return new Histogram({ ...config, labelNames: [...config.labelNames], registers: [registry] });
}

/** Exponential buckets in seconds from 1 ms to about 16 min, as controller-runtime uses for durations. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1000];
