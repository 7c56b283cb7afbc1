// PromQL templates: shapes, variables, escaping, and the defaults' rendering for a route.
import { ConfigError } from '../../../operator/base/errors.ts';
import {
  DEFAULT_TEMPLATES,
  compileTemplate,
  escapePromString,
  escapeRegex,
  promDuration,
  renderTemplate,
  routeTemplates,
  serviceLabel,
} from '../../../operator/telemetry/prometheus/promql-templates.ts';
import { SIGNALS, type RouteTarget } from '../../../operator/telemetry/types.ts';

function target(change: (t: RouteTarget) => void = () => {}): RouteTarget {
  const t: RouteTarget = {
    key: 'shop/checkout',
    namespace: 'shop',
    name: 'checkout',
    host: 'checkout.shop.svc.cluster.local',
    regions: [
      { region: 'eu-west', service: 'checkout.shop.svc.cluster.local', port: 8080, cluster: 'meshpilot|shop|checkout|eu-west' },
      { region: 'us-east', service: 'checkout-us.shop.svc.cluster.local', port: 8080, cluster: 'meshpilot|shop|checkout|us-east' },
      { region: 'ap-south', service: 'checkout.shop.svc.cluster.local', port: 8080, cluster: 'meshpilot|shop|checkout|ap-south' },
    ],
    telemetry: { staleAfter: '30s' },
    decisionIntervalMs: 20_000,
    staleAfterMs: 30_000,
  };
  change(t);
  return t;
}

describe('PromQL templates', () => {
  it('runs a template once per region exactly when it names a region variable', () => {
    expect(compileTemplate('requestRate', 'sum(rate(x{region="{{region}}"}[{{window}}]))').perRegion).toBe(true);
    expect(compileTemplate('requestRate', 'sum(rate(x{service="{{ service }}"}[1m]))').perRegion).toBe(true);
    expect(compileTemplate('requestRate', 'sum(rate(x{c="{{cluster}}"}[1m]))').perRegion).toBe(true);
    expect(compileTemplate('requestRate', 'sum by (region) (rate(x{service=~"{{services}}"}[{{window}}]))').perRegion).toBe(false);
    for (const signal of SIGNALS) expect(compileTemplate(signal, DEFAULT_TEMPLATES[signal]).perRegion).toBe(false);
  });

  it('rejects an unknown variable with an error naming the field', () => {
    expect(() => compileTemplate('errorRate', 'sum(x{a="{{foo}}"})')).toThrow(ConfigError);
    expect(() => compileTemplate('errorRate', 'sum(x{a="{{foo}}"})')).toThrow(/^spec\.telemetry\.prometheus\.queries\.errorRate: unknown variable \{\{foo\}\}/);
    expect(() => compileTemplate('latencyP99', '   ')).toThrow(/^spec\.telemetry\.prometheus\.queries\.latencyP99: empty query/);
  });

  it('fills every variable, escaping values for PromQL string literals', () => {
    const t = target((x) => {
      x.namespace = 'a"b';
      x.regions[0]!.region = 'eu\\west';
    });
    const text =
      'x{route="{{route}}",ns="{{namespace}}",n="{{name}}",h="{{host}}",r="{{region}}",s="{{service}}",c="{{cluster}}",ss=~"{{services}}",cs=~"{{clusters}}"}[{{window}}]';
    const rendered = renderTemplate(compileTemplate('requestRate', text), t, 90_000, t.regions[0]);
    expect(rendered).toBe(
      String.raw`x{route="shop/checkout",ns="a\"b",n="checkout",h="checkout.shop.svc.cluster.local",r="eu\\west",s="checkout",c="meshpilot|shop|checkout|eu-west",` +
        String.raw`ss=~"checkout|checkout-us",cs=~"meshpilot\\|shop\\|checkout\\|eu-west|meshpilot\\|shop\\|checkout\\|us-east|meshpilot\\|shop\\|checkout\\|ap-south"}[90s]`,
    );
  });

  it('renders the defaults for a route: its clusters and services, its window, region labels', () => {
    const t = target();
    const { templates, errors } = routeTemplates(t);
    expect(errors).toEqual([]);
    const rate = renderTemplate(templates.requestRate!, t, 60_000);
    expect(rate).toContain(String.raw`envoy_cluster_name=~"meshpilot\\|shop\\|checkout\\|eu-west|`);
    expect(rate).toContain('grpc_server_call_started_total{service=~"checkout|checkout-us"}[1m]');
    expect(rate).toContain(String.raw`label_replace(rate(envoy_cluster_upstream_rq_total`);
    expect(rate).not.toMatch(/\{\{/);
    const p99 = renderTemplate(templates.latencyP99!, t, 60_000);
    // Envoy's histogram is in milliseconds; the template answers seconds like gRPC's.
    expect(p99).toMatch(/^\(histogram_quantile\(0\.99, sum by \(region, le\) .*envoy_cluster_upstream_rq_time_bucket.*\) \/ 1000\) or \(histogram_quantile\(0\.99, .*grpc_server_call_duration_seconds_bucket/);
    const errorsQuery = renderTemplate(templates.errorRate!, t, 60_000);
    expect(errorsQuery).toContain('envoy_response_code_class="5"');
    expect(errorsQuery).toContain('grpc_status=~"UNKNOWN|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|INTERNAL|UNAVAILABLE|DATA_LOSS"');
    expect(renderTemplate(templates.saturation!, t, 60_000)).toContain('envoy_cluster_circuit_breakers_default_remaining_rq');
  });

  it('takes a route\'s overrides and keeps the defaults of the other signals, even when one override is broken', () => {
    const t = target((x) => {
      x.telemetry.prometheus = { queries: { requestRate: 'sum(rate(reqs{region="{{region}}"}[{{window}}]))', errorRate: 'x{{bogus}}' } };
    });
    const { templates, errors } = routeTemplates(t);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^spec\.telemetry\.prometheus\.queries\.errorRate: unknown variable \{\{bogus\}\}/),
    ]);
    expect(templates.errorRate).toBeUndefined();
    expect(templates.requestRate).toMatchObject({ perRegion: true, field: 'spec.telemetry.prometheus.queries.requestRate' });
    expect(renderTemplate(templates.requestRate!, t, 20_000, t.regions[1])).toBe('sum(rate(reqs{region="us-east"}[20s]))');
    expect(templates.latencyP50?.text).toBe(DEFAULT_TEMPLATES.latencyP50);
    expect(() => renderTemplate(templates.requestRate!, t, 20_000)).toThrow(TypeError);
  });

  it('writes durations, service labels and escapes as Prometheus reads them', () => {
    expect([promDuration(60_000), promDuration(120_000), promDuration(90_000), promDuration(1_500), promDuration(0)]).toEqual(['1m', '2m', '90s', '1500ms', '1ms']);
    expect(serviceLabel('checkout.shop.svc.cluster.local')).toBe('checkout');
    expect(serviceLabel('checkout')).toBe('checkout');
    expect(escapeRegex('a.b|c(d)*+?[x]{1}^$\\')).toBe(String.raw`a\.b\|c\(d\)\*\+\?\[x\]\{1\}\^\$\\`);
    expect(escapePromString('say "hi" \\ bye')).toBe(String.raw`say \"hi\" \\ bye`);
  });
});
