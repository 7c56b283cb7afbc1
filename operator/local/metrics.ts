// Request metrics of the local API server, registered on a registry the caller injects
// (never the global one).
import type { Registry } from 'prom-client';
import { counter } from '../base/metrics.ts';

/** Counts requests by verb, resource and HTTP code. */
export interface ApiServerMetrics {
  observe(verb: string, resource: string, code: number): void;
}

/** Metrics on `registry`, or a no-op when there is none. */
export function apiServerMetrics(registry: Registry | undefined): ApiServerMetrics {
  if (!registry) return { observe: () => undefined };
  const requests = counter(registry, {
    name: 'meshpilot_local_apiserver_requests_total',
    help: 'Requests served by the embedded local Kubernetes API server, by verb, resource and HTTP code.',
    labelNames: ['verb', 'resource', 'code'] as const,
  });
  return { observe: (verb, resource, code) => requests.inc({ verb, resource, code: String(code) }) };
}
