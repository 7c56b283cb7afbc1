// The repository's examples (deploy/examples/) are written for a cluster. `meshpilot local`
// applies them too, so that `kubectl get ar` shows something real on a first run; what
// cannot work on one machine is adapted, never silently: each change is written into the
// object's `meshpilot.io/local-mode` annotation and returned for a log line.
// - Telemetry sources that need a cluster (Prometheus or Kafka with no address configured,
//   scrape targets at cluster DNS names) are removed: left in, they warn for as long as the
//   process runs. The demo route shows telemetry working locally.
// - A ContactPlan's epoch moves to the start of the current hour, so that its contacts (in
//   seconds after the epoch) lie ahead instead of in the past.

export const LOCAL_MODE_ANNOTATION = 'meshpilot.io/local-mode';

export interface LocalAddresses {
  prometheusUrl: string | undefined;
  kafkaBrokers: string[] | undefined;
}

import { isObject } from '../api/schema/json-value.ts';

type Json = Record<string, unknown>;

function clusterOnly(url: unknown): boolean {
  try {
    const host = new URL(String(url)).hostname;
    return host.endsWith('.svc.cluster.local') || host.endsWith('.svc') || host.endsWith('.cluster.local');
  } catch {
    return true;
  }
}

function adaptTelemetry(telemetry: Json, local: LocalAddresses): string[] {
  const changes: string[] = [];
  const prometheus = telemetry.prometheus;
  if (isObject(prometheus) && !prometheus.url && !local.prometheusUrl) {
    delete telemetry.prometheus;
    changes.push('removed spec.telemetry.prometheus: no Prometheus is configured (--prometheus-url)');
  }
  const kafka = telemetry.kafka;
  if (isObject(kafka) && !(Array.isArray(kafka.brokers) && kafka.brokers.length > 0) && !local.kafkaBrokers?.length) {
    delete telemetry.kafka;
    changes.push('removed spec.telemetry.kafka: no Kafka brokers are configured (--kafka-brokers)');
  }
  const scrape = telemetry.scrape;
  if (isObject(scrape) && Array.isArray(scrape.targets) && scrape.targets.some((t) => clusterOnly(isObject(t) ? t.url : undefined))) {
    delete telemetry.scrape;
    changes.push('removed spec.telemetry.scrape: its targets are cluster DNS names');
  }
  return changes;
}

/**
 * `doc` as local mode applies it (a copy; `doc` is not changed), and the changes made, in
 * words. Documents that need no change come back equal, with no annotation.
 */
export function adaptExampleForLocal(doc: Json, local: LocalAddresses, now: Date): { doc: Json; changes: string[] } {
  const copy = structuredClone(doc);
  const spec = copy.spec;
  if (!isObject(spec)) return { doc: copy, changes: [] };
  const changes: string[] = [];
  if (copy.kind === 'AdaptiveRoute' && isObject(spec.telemetry)) changes.push(...adaptTelemetry(spec.telemetry, local));
  if (copy.kind === 'ContactPlan' && typeof spec.epoch === 'string') {
    const hour = new Date(now);
    hour.setUTCMinutes(0, 0, 0);
    const epoch = hour.toISOString().replace('.000Z', 'Z');
    changes.push(`moved spec.epoch from ${spec.epoch} to ${epoch}, so that the contacts lie in the coming day`);
    spec.epoch = epoch;
  }
  if (changes.length > 0) {
    const metadata = (isObject(copy.metadata) ? copy.metadata : (copy.metadata = {})) as Json;
    metadata.annotations = { ...(isObject(metadata.annotations) ? metadata.annotations : {}), [LOCAL_MODE_ANNOTATION]: changes.join('; ') };
  }
  return { doc: copy, changes };
}
