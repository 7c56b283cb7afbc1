// The pure resource builders, from RouteIntent fixtures.
import { failoverOrder } from '../../../operator/api/priority-groups.ts';
import { buildCluster, buildLoadAssignment } from '../../../operator/xds/build-cluster.ts';
import {
  buildEnvoyListener,
  buildGrpcListener,
  buildGrpcRouteConfiguration,
  buildRetryPolicy,
  buildVirtualHost,
  domains,
  weightedClusters,
} from '../../../operator/xds/build-route.ts';
import type { Endpoint } from '../../../operator/xds/endpoints.ts';
import { checkIntent } from '../../../operator/xds/intent-check.ts';
import { ENVOY_LISTENER_NAME, ENVOY_ROUTE_CONFIG_NAME, clusterName, listenerName, routeConfigName } from '../../../operator/xds/names.ts';
import { ConfigError } from '../../../operator/base/errors.ts';
import { TYPE_URLS } from '../../../operator/xds/type-urls.ts';
import { loadXdsProtos } from '../../../operator/xds/protos.ts';
import { intent } from './fixtures.ts';

const ep = (address: string): Endpoint => ({ address, port: 8080 });

function endpoints(map: Record<string, string[]>): Map<string, Endpoint[]> {
  return new Map(Object.entries(map).map(([r, as]) => [r, as.map(ep)]));
}

type Locality = { locality: { region: string }; priority: number; load_balancing_weight: { value: number }; lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] };

function localities(cla: Record<string, unknown>): { region: string; priority: number; addresses: string[] }[] {
  return (cla.endpoints as Locality[]).map((l) => ({
    region: l.locality.region,
    priority: l.priority,
    addresses: l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address),
  }));
}

describe('names', () => {
  it('derives every name from the route key or host', () => {
    expect(clusterName('shop/checkout', 'eu-west')).toBe('meshpilot|shop|checkout|eu-west');
    expect(listenerName('checkout.shop.svc')).toBe('checkout.shop.svc');
    expect(routeConfigName('checkout.shop.svc')).toBe('meshpilot|route|checkout.shop.svc');
    expect(ENVOY_LISTENER_NAME).toBe('meshpilot-http');
    expect(ENVOY_ROUTE_CONFIG_NAME).not.toBe(routeConfigName(ENVOY_LISTENER_NAME));
  });
});

describe('weightedClusters', () => {
  const all = new Set(['eu-west', 'us-east', 'ap-south']);

  it('carries the percent weights and leaves out zero-weight regions', () => {
    expect(weightedClusters(intent(), all)).toEqual([
      { name: 'meshpilot|shop|checkout|eu-west', weight: 70 },
      { name: 'meshpilot|shop|checkout|us-east', weight: 30 },
    ]);
  });

  it('leaves out a weighted region without endpoints (its share spreads over the rest)', () => {
    expect(weightedClusters(intent(), new Set(['us-east', 'ap-south']))).toEqual([{ name: 'meshpilot|shop|checkout|us-east', weight: 30 }]);
  });

  it('sends everything to the first region with endpoints in failover order when no weighted region has any', () => {
    expect(weightedClusters(intent(), new Set(['ap-south']))).toEqual([{ name: 'meshpilot|shop|checkout|ap-south', weight: 100 }]);
    expect(weightedClusters(intent({ failoverEnabled: false }), new Set(['ap-south']))).toEqual([]);
  });
});

describe('buildRetryPolicy', () => {
  it('maps our retry conditions to gRPC status names for proxyless gRPC', () => {
    const policy = buildRetryPolicy(intent({ attempts: 3, retryOn: ['connect-failure', '5xx', 'retriable-4xx', 'deadline-exceeded'] }).retries, 'grpc');
    expect(policy).toEqual({ retry_on: 'unavailable,internal,deadline-exceeded', num_retries: { value: 3 }, per_try_timeout: { seconds: 0, nanos: 250_000_000 } });
  });

  it('passes our names through for Envoy', () => {
    const policy = buildRetryPolicy(intent({ attempts: 1, retryOn: ['5xx', 'reset', 'cancelled'] }).retries, 'envoy');
    expect(policy).toMatchObject({ retry_on: '5xx,reset,cancelled', num_retries: { value: 1 } });
  });

  it('has Envoy avoid the hosts a request tried, and, with retries.crossRegion, the regions it tried; gRPC gets neither', () => {
    const previousHosts = [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }];
    const previousPriorities = { name: 'envoy.retry_priorities.previous_priorities', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig', update_frequency: 1 } };
    const same = buildRetryPolicy(intent({ attempts: 2 }).retries, 'envoy')!;
    expect(same).toMatchObject({ retry_host_predicate: previousHosts, host_selection_retry_max_attempts: 5 });
    expect(same.retry_priority).toBeUndefined();
    expect(buildRetryPolicy(intent({ attempts: 2, crossRegion: true }).retries, 'envoy')).toMatchObject({ retry_host_predicate: previousHosts, retry_priority: previousPriorities });
    const grpc = buildRetryPolicy(intent({ attempts: 2, crossRegion: true }).retries, 'grpc')!;
    expect(Object.keys(grpc).sort()).toEqual(['num_retries', 'per_try_timeout', 'retry_on']);
    // The extensions' typed configs survive the wire: Envoy would NACK an Any it cannot decode.
    const protos = loadXdsProtos();
    const vhost = buildVirtualHost(intent({ attempts: 2, crossRegion: true }), [{ name: 'c', weight: 100 }], 'envoy');
    const wire = protos.toJson('envoy.config.route.v3.VirtualHost', protos.encode('envoy.config.route.v3.VirtualHost', vhost)) as { routes: { route: { retry_policy: Record<string, unknown> } }[] };
    expect(wire.routes[0]!.route.retry_policy).toMatchObject({ retry_host_predicate: previousHosts, host_selection_retry_max_attempts: '5', retry_priority: previousPriorities });
  });

  it('leaves the policy out without attempts or without a condition the client honours', () => {
    expect(buildRetryPolicy(intent({ attempts: 0 }).retries, 'envoy')).toBeUndefined();
    expect(buildRetryPolicy(intent({ attempts: 2, retryOn: ['retriable-4xx'] }).retries, 'grpc')).toBeUndefined();
    expect(buildRetryPolicy(intent({ attempts: 2, retryOn: ['retriable-4xx'] }).retries, 'envoy')).toBeDefined();
  });
});

describe('buildVirtualHost', () => {
  const clusters = [{ name: 'a', weight: 60 }, { name: 'b', weight: 40 }];

  it('routes "/" to the weighted clusters with the request timeout where each flavour reads it', () => {
    const grpc = buildVirtualHost(intent({ timeoutMs: 2500 }), clusters, 'grpc') as { domains: string[]; routes: { match: unknown; route: Record<string, unknown> }[] };
    expect(grpc.domains).toEqual(['checkout.shop.svc', 'checkout.shop.svc:*']);
    expect(grpc.routes[0]!.match).toEqual({ prefix: '/' });
    expect(grpc.routes[0]!.route.weighted_clusters).toEqual({ clusters: [{ name: 'a', weight: { value: 60 } }, { name: 'b', weight: { value: 40 } }] });
    expect(grpc.routes[0]!.route.max_stream_duration).toEqual({ max_stream_duration: { seconds: 2, nanos: 500_000_000 } });
    expect(grpc.routes[0]!.route.timeout).toBeUndefined();
    const envoy = buildVirtualHost(intent({ timeoutMs: 2500 }), clusters, 'envoy') as { routes: { route: Record<string, unknown> }[] };
    expect(envoy.routes[0]!.route.timeout).toEqual({ seconds: 2, nanos: 500_000_000 });
    expect(envoy.routes[0]!.route.max_stream_duration).toBeUndefined();
  });

  it('has no route when there is no cluster to send to', () => {
    expect(buildVirtualHost(intent(), [], 'grpc')).toMatchObject({ routes: [] });
  });

  it('adds host:* only to a plain host', () => {
    expect(domains('*.shop.svc')).toEqual(['*.shop.svc']);
    expect(domains('checkout:50051')).toEqual(['checkout:50051']);
  });
});

describe('listeners', () => {
  it('gives proxyless gRPC an api_listener named after the host, using the route table over ADS', () => {
    expect(buildGrpcListener('checkout.shop.svc')).toEqual({
      name: 'checkout.shop.svc',
      api_listener: {
        api_listener: {
          '@type': TYPE_URLS.httpConnectionManager,
          rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: 'meshpilot|route|checkout.shop.svc' },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': TYPE_URLS.router } }],
        },
      },
    });
    expect(buildGrpcRouteConfiguration(intent(), [])).toMatchObject({ name: 'meshpilot|route|checkout.shop.svc', virtual_hosts: [{ name: 'shop/checkout' }] });
  });

  it('gives Envoy one HTTP listener on the configured port', () => {
    const l = buildEnvoyListener(10001) as { name: string; address: unknown; filter_chains: { filters: { typed_config: { rds: { route_config_name: string } } }[] }[] };
    expect(l.name).toBe(ENVOY_LISTENER_NAME);
    expect(l.address).toEqual({ socket_address: { address: '0.0.0.0', port_value: 10001 } });
    expect(l.filter_chains[0]!.filters[0]!.typed_config.rds.route_config_name).toBe(ENVOY_ROUTE_CONFIG_NAME);
  });
});

describe('buildCluster', () => {
  it('is an EDS cluster over ADS with consecutive-5xx outlier detection, circuit breakers and the retry budget for Envoy', () => {
    const c = buildCluster(intent(), 'eu-west', 'envoy');
    expect(c).toMatchObject({
      name: 'meshpilot|shop|checkout|eu-west',
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
      lb_policy: 'ROUND_ROBIN',
      outlier_detection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10, nanos: 0 }, base_ejection_time: { seconds: 30, nanos: 0 }, max_ejection_percent: { value: 50 } },
      circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: { value: 1024 }, retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: { value: 3 } } }] },
    });
    // The budget replaces the max_retries breaker (Envoy ignores the one when the other is set).
    expect((c.circuit_breakers as { thresholds: Record<string, unknown>[] }).thresholds[0]!.max_retries).toBeUndefined();
    expect(c.connect_timeout).toBeDefined();
  });

  it('uses failure-percentage ejection and only max_requests for proxyless gRPC', () => {
    const c = buildCluster(intent(), 'eu-west', 'grpc') as Record<string, Record<string, unknown>>;
    expect(c.outlier_detection).toMatchObject({ enforcing_failure_percentage: { value: 100 }, failure_percentage_request_volume: { value: 5 }, enforcing_success_rate: { value: 0 } });
    expect(c.outlier_detection!.consecutive_5xx).toBeUndefined();
    expect(c.circuit_breakers).toEqual({ thresholds: [{ priority: 'DEFAULT', max_requests: { value: 1024 } }] });
    expect(c.connect_timeout).toBeUndefined();
    expect(c.typed_extension_protocol_options).toBeUndefined();
  });
});

describe('buildLoadAssignment', () => {
  const eps = endpoints({ 'eu-west': ['10.0.0.1', '10.0.0.2'], 'us-east': ['10.1.0.1'], 'ap-south': ['10.2.0.1'] });

  it('puts the region at priority 0 and the others after it in failover order', () => {
    expect(localities(buildLoadAssignment(intent(), 'eu-west', eps))).toEqual([
      { region: 'eu-west', priority: 0, addresses: ['10.0.0.1', '10.0.0.2'] },
      { region: 'us-east', priority: 1, addresses: ['10.1.0.1'] },
      { region: 'ap-south', priority: 2, addresses: ['10.2.0.1'] },
    ]);
    expect(localities(buildLoadAssignment(intent(), 'ap-south', eps)).map((l) => l.region)).toEqual(['ap-south', 'eu-west', 'us-east']);
  });

  it('orders failover by priority value, then spec order', () => {
    const it = intent({ regions: { a: [0, 2], b: [50, 0], c: [0, 1], d: [50, 0] } });
    expect(failoverOrder(it.destinations).map((d) => d.region)).toEqual(['b', 'd', 'c', 'a']);
    const e = endpoints({ a: ['1.0.0.1'], b: ['1.0.0.2'], c: ['1.0.0.3'], d: ['1.0.0.4'] });
    expect(localities(buildLoadAssignment(it, 'd', e)).map((l) => [l.region, l.priority])).toEqual([['d', 0], ['b', 1], ['c', 2], ['a', 3]]);
  });

  it('has only the region when failover is disabled', () => {
    expect(localities(buildLoadAssignment(intent({ failoverEnabled: false }), 'us-east', eps))).toEqual([{ region: 'us-east', priority: 0, addresses: ['10.1.0.1'] }]);
  });

  it('keeps priorities contiguous and addresses unique', () => {
    const e = endpoints({ 'eu-west': ['10.0.0.1'], 'us-east': [], 'ap-south': ['10.0.0.1', '10.2.0.1'] });
    expect(localities(buildLoadAssignment(intent(), 'eu-west', e))).toEqual([
      { region: 'eu-west', priority: 0, addresses: ['10.0.0.1'] },
      { region: 'ap-south', priority: 1, addresses: ['10.2.0.1'] },
    ]);
  });

  it('sets a locality weight (clients drop localities without one)', () => {
    for (const l of buildLoadAssignment(intent(), 'eu-west', eps).endpoints as Locality[]) expect(l.load_balancing_weight.value).toBeGreaterThan(0);
  });
});

describe('checkIntent', () => {
  const bad = (mutate: (i: ReturnType<typeof intent>) => void): ConfigError => {
    const it = intent();
    mutate(it);
    try {
      checkIntent(it);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('accepted a bad intent');
  };

  it('accepts the fixture', () => {
    expect(() => checkIntent(intent())).not.toThrow();
  });

  it('names the field of a bad intent', () => {
    expect(bad((i) => (i.destinations[1]!.port = 0)).message).toContain('destinations[1].port');
    expect(bad((i) => (i.destinations[0]!.weight = 20)).message).toContain('weights sum to 50');
    expect(bad((i) => (i.destinations[2]!.region = 'eu-west')).message).toContain('destinations[2].region');
    expect(bad((i) => (i.host = 'a*b.svc')).message).toContain('host');
    expect(bad((i) => (i.timeoutMs = 0)).message).toContain('timeoutMs');
    expect(bad((i) => (i.retries.retryOn = ['bogus' as never])).message).toContain('retries.retryOn[0]');
    expect(bad((i) => ((i.retries.crossRegion = true), (i.failoverEnabled = false))).message).toContain('retries.crossRegion: needs failoverEnabled');
    expect(bad((i) => (i.destinations = [])).message).toContain('destinations');
  });
});
