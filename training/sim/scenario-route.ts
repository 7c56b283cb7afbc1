// The AdaptiveRoute a scenario stands for: what serving would hold for this route. The
// simulator observes and guards through serving's own functions, which take an AdaptiveRoute,
// so the scenario's route is built as one and checked against the CRD like any other.
import { ConfigError } from '../../operator/base/errors.ts';
import { formatDuration } from '../../operator/base/duration.ts';
import { API_VERSION, type AdaptiveRoute } from '../../operator/api/types.ts';
import { validateAdaptiveRoute } from '../../operator/api/validate.ts';
import type { ScenarioSpec } from './scenario-schema.ts';

/** Namespace of every simulated route: the route key is "sim/<scenario name>". */
export const SIM_NAMESPACE = 'sim';

/**
 * The defaulted AdaptiveRoute of scenario `s`. Throws ConfigError naming `file` when the CRD
 * refuses it (a scenario the schema accepts but the API server would not).
 */
export function adaptiveRouteOf(s: ScenarioSpec, file = '<inline>'): AdaptiveRoute {
  const r = s.route;
  const manifest = {
    apiVersion: API_VERSION,
    kind: 'AdaptiveRoute',
    metadata: { name: s.name, namespace: SIM_NAMESPACE, generation: 1 },
    spec: {
      host: `${s.name}.${SIM_NAMESPACE}.svc.cluster.local`,
      destinations: s.regions.map((d) => ({ region: d.name, service: `${s.name}.${d.name}.svc.cluster.local`, port: 80, weight: d.weight, priority: d.priority })),
      objectives: {
        latencyP99: formatDuration(r.objectives.latencyP99Ms),
        maxErrorRate: r.objectives.maxErrorRate,
        crossRegionCostWeight: r.objectives.crossRegionCostWeight,
      },
      policy: {
        mode: 'enforce',
        decisionInterval: formatDuration(s.episode.decisionIntervalSec * 1000),
        maxWeightStep: r.policy.maxWeightStep,
        minWeight: r.policy.minWeight,
        ...(r.policy.returnToSpecAfterSec === undefined ? {} : { returnToSpecAfter: formatDuration(r.policy.returnToSpecAfterSec * 1000) }),
      },
      retries: {
        attempts: { ...r.retries.attempts },
        perTryTimeout: { min: formatDuration(r.retries.perTryTimeoutMs.min), max: formatDuration(r.retries.perTryTimeoutMs.max) },
        crossRegion: r.retries.crossRegion,
      },
      timeout: { min: formatDuration(r.timeoutMs.min), max: formatDuration(r.timeoutMs.max) },
      telemetry: { staleAfter: formatDuration(s.telemetry.staleAfterSec * 1000) },
      failover: { enabled: r.failover.enabled },
    },
  };
  const result = validateAdaptiveRoute(manifest);
  if (!result.ok) {
    const lines = result.issues.map((i) => `${file}: the scenario as an AdaptiveRoute: ${i.field}: ${i.message}`);
    throw new ConfigError(lines.join('\n'));
  }
  return result.value;
}
