// Checks what would otherwise drift between the operator and its deployment files: the plain
// manifests grant every permission the operator uses (and nothing broad), pass the flags and
// expose the ports the process serves, keep the pod hardened, agree with the Helm chart's
// values and templates, and the Grafana dashboard queries only metrics meshpilot exports.
// Templates are "loosely rendered" (actions dropped) to compare their structure with the plain
// manifests, and rendered for real by helm 4 (test/support/provision.sh unpacks it) to check
// what a cluster would get; the plain manifests' kustomization is built by kubectl 1.35.
import { execFileSync } from 'node:child_process';
import { currentKubectl, helmBinary } from '../../support/kubectl.ts';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const CHART = join(DEPLOY, 'helm', 'meshpilot');
const NAMESPACE = 'meshpilot-system';

// ---- minimal shapes of the objects we look at ----------------------------------------------

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [key: string]: unknown;
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RbacRole extends K8sObject {
  rules: PolicyRule[];
}
interface Binding extends K8sObject {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  [key: string]: unknown;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: unknown;
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: SecurityContext;
  containers: Container[];
  volumes?: { name: string }[];
  affinity?: unknown;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}
interface Deployment extends K8sObject {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: PodTemplate };
}
interface Service extends K8sObject {
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}
interface Pdb extends K8sObject {
  spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
}
interface CronJob extends K8sObject {
  spec: { jobTemplate: { spec: { template: PodTemplate } } };
}

// ---- helpers ------------------------------------------------------------------------------

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Every non-empty document of a YAML stream; fails on any YAML error. */
function parseStream(text: string, where: string, options: { uniqueKeys?: boolean } = {}): K8sObject[] {
  const docs = parseAllDocuments(text, { uniqueKeys: options.uniqueKeys ?? true });
  const list = Array.isArray(docs) ? docs : [];
  const objects: K8sObject[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value != null) objects.push(value as K8sObject);
  }
  return objects;
}

function find<T extends K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

/** Whether the rules allow `verb` on `resource` (optionally a named object) in `group`. */
function allows(rules: PolicyRule[], group: string, resource: string, verb: string, name?: string): boolean {
  return rules.some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))),
  );
}

/**
 * A template with its Go-template actions dropped: comments removed, lines that hold only
 * actions removed (so both branches of an if stay), inline actions replaced by TEMPLATED.
 * Good enough to compare the structure of templates written in this chart's style.
 */
function looseRender(template: string): string {
  return template
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => line.replace(/\{\{[\s\S]*?\}\}/g, '').trim() !== '' || line.trim() === '')
    .map((line) => line.replace(/\{\{[\s\S]*?\}\}/g, 'TEMPLATED'))
    .join('\n');
}

function template(name: string): K8sObject[] {
  return parseStream(looseRender(read(join(CHART, 'templates', name))), `templates/${name}`, { uniqueKeys: false });
}

function flagMap(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const arg of args.filter((a) => a.startsWith('--'))) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new Error(`flag ${arg} should be written --flag=value (one token; --leader-elect takes a value)`);
    flags.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return flags;
}

const sortRules = (rules: PolicyRule[]) =>
  rules.map((r) => JSON.stringify(r)).sort();

function expectHardened(pod: SecurityContext | undefined, container: SecurityContext | undefined): void {
  expect(pod?.runAsNonRoot).toBe(true);
  expect(pod?.runAsUser).toBe(65532);
  expect(pod?.seccompProfile?.type).toBe('RuntimeDefault');
  expect(container?.runAsNonRoot).toBe(true);
  expect(container?.allowPrivilegeEscalation).toBe(false);
  expect(container?.privileged ?? false).toBe(false);
  expect(container?.readOnlyRootFilesystem).toBe(true);
  expect(container?.capabilities?.drop).toEqual(['ALL']);
  expect(container?.capabilities?.add ?? []).toEqual([]);
}

// ---- the files ----------------------------------------------------------------------------

const manifests = parseStream(read(join(DEPLOY, 'manifests', 'meshpilot.yaml')), 'meshpilot.yaml');
const meshRbac = parseStream(read(join(DEPLOY, 'manifests', 'optional', 'mesh-outputs-rbac.yaml')), 'mesh-outputs-rbac.yaml');
const optionalServiceMonitor = parseStream(read(join(DEPLOY, 'manifests', 'optional', 'servicemonitor.yaml')), 'servicemonitor.yaml');
const optionalTraining = parseStream(read(join(DEPLOY, 'manifests', 'optional', 'training.yaml')), 'training.yaml');
const values = parse(read(join(CHART, 'values.yaml'))) as {
  replicaCount: number;
  leaderElection: { enabled: boolean; leaseName: string; leaseDuration: string; renewDeadline: string; retryPeriod: string };
  workers: number;
  logLevel: string;
  metrics: { port: number };
  health: { port: number };
  xds: { port: number; tls: { profile: string; secretName: string; clientAuth: boolean }; plaintextPort: number | null };
  resources: unknown;
  livenessProbe: Probe;
  readinessProbe: Probe;
  podSecurityContext: SecurityContext;
  securityContext: SecurityContext;
  terminationGracePeriodSeconds: number;
  podDisruptionBudget: { enabled: boolean; minAvailable: number };
  meshOutputs: { gatewayApi: { enabled: boolean }; istio: { enabled: boolean } };
  grafanaDashboard: { enabled: boolean; labels: Record<string, string> };
  training: { enabled: boolean; schedule: string; scenarios: string; out: string; persistence: { mountPath: string } };
};
const chart = parse(read(join(CHART, 'Chart.yaml'))) as { apiVersion: string; name: string; version: string; appVersion: string };
const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { version: string };

const clusterRole = find<RbacRole>(manifests, 'ClusterRole');
const role = find<RbacRole>(manifests, 'Role');
const deployment = find<Deployment>(manifests, 'Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0] as Container;
const flags = flagMap(container.args ?? []);

const OUR_GROUP = 'traffic.meshpilot.io';
const OUR_RESOURCES = ['adaptiveroutes', 'contactplans'] as const;

describe('deploy/manifests/meshpilot.yaml RBAC', () => {
  it('lets the operator read its custom resources and write their status and finalizers', () => {
    for (const resource of OUR_RESOURCES) {
      for (const verb of ['get', 'list', 'watch', 'update', 'patch']) {
        expect([resource, verb, allows(clusterRole.rules, OUR_GROUP, resource, verb)]).toEqual([resource, verb, true]);
      }
      for (const verb of ['get', 'update', 'patch']) {
        expect([`${resource}/status`, verb, allows(clusterRole.rules, OUR_GROUP, `${resource}/status`, verb)]).toEqual([
          `${resource}/status`,
          verb,
          true,
        ]);
      }
      for (const verb of ['update', 'patch']) {
        expect(allows(clusterRole.rules, OUR_GROUP, `${resource}/finalizers`, verb)).toBe(true);
      }
      // Users own these objects: the operator neither creates nor deletes them.
      expect(allows(clusterRole.rules, OUR_GROUP, resource, 'create')).toBe(false);
      expect(allows(clusterRole.rules, OUR_GROUP, resource, 'delete')).toBe(false);
    }
  });

  it('covers every CRD in crds/ with its status subresource', () => {
    const crdFiles = readdirSync(join(ROOT, 'crds')).filter((f) => /\.ya?ml$/.test(f));
    for (const file of crdFiles) {
      for (const crd of parseStream(read(join(ROOT, 'crds', file)), `crds/${file}`)) {
        if (crd.kind !== 'CustomResourceDefinition') continue;
        const spec = crd.spec as { group: string; names: { plural: string } };
        expect(allows(clusterRole.rules, spec.group, spec.names.plural, 'watch')).toBe(true);
        expect(allows(clusterRole.rules, spec.group, `${spec.names.plural}/status`, 'patch')).toBe(true);
      }
    }
  });

  it('records events cluster-wide', () => {
    expect(allows(clusterRole.rules, '', 'events', 'create')).toBe(true);
    expect(allows(clusterRole.rules, '', 'events', 'patch')).toBe(true);
  });

  it('holds its Lease only in its own namespace, under the name it is given', () => {
    expect(role.metadata.namespace).toBe(NAMESPACE);
    const lease = values.leaderElection.leaseName;
    expect(flags.get('--lease-name')).toBe(lease);
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'create')).toBe(true);
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'get', lease)).toBe(true);
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'update', lease)).toBe(true);
    expect(allows(role.rules, 'coordination.k8s.io', 'leases', 'update', 'someone-elses-lease')).toBe(false);
    expect(allows(clusterRole.rules, 'coordination.k8s.io', 'leases', 'update')).toBe(false);
  });

  it('reads ConfigMaps and Secrets (TLS material) in its own namespace only', () => {
    for (const resource of ['configmaps', 'secrets']) {
      for (const verb of ['get', 'list', 'watch']) expect(allows(role.rules, '', resource, verb)).toBe(true);
      expect(allows(role.rules, '', resource, 'update')).toBe(false);
      expect(allows(clusterRole.rules, '', resource, 'get')).toBe(false);
    }
  });

  it('grants no wildcard and nothing for mesh outputs by default', () => {
    for (const r of [...clusterRole.rules, ...role.rules]) {
      expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
    }
    expect(clusterRole.rules.flatMap((r) => r.apiGroups)).not.toContain('gateway.networking.k8s.io');
    expect(clusterRole.rules.flatMap((r) => r.apiGroups)).not.toContain('networking.istio.io');
  });

  it('binds both roles to the operator service account', () => {
    const sa = find<K8sObject>(manifests, 'ServiceAccount');
    expect(sa.metadata.namespace).toBe(NAMESPACE);
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    for (const [kind, roleObject] of [
      ['ClusterRoleBinding', clusterRole],
      ['RoleBinding', role],
    ] as const) {
      const binding = find<Binding>(manifests, kind);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: roleObject.kind, name: roleObject.metadata.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE }]);
    }
  });

  it('optional mesh-output RBAC grants what the writers need on HTTPRoutes, VirtualServices and DestinationRules', () => {
    const meshRole = find<RbacRole>(meshRbac, 'ClusterRole');
    const verbs = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
    for (const [group, resource] of [
      ['gateway.networking.k8s.io', 'httproutes'],
      ['networking.istio.io', 'virtualservices'],
      ['networking.istio.io', 'destinationrules'],
    ] as const) {
      for (const verb of verbs) expect(allows(meshRole.rules, group, resource, verb)).toBe(true);
      expect(allows(meshRole.rules, group, resource, 'update')).toBe(false);
    }
    const binding = find<Binding>(meshRbac, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(meshRole.metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'meshpilot', namespace: NAMESPACE }]);
  });
});

describe('deploy/manifests/meshpilot.yaml Deployment', () => {
  it('runs `meshpilot run` with the flags the CLI accepts', () => {
    expect(container.command).toBeUndefined(); // the image's ENTRYPOINT is node operator/cli.ts
    expect(container.args?.[0]).toBe('run');
    expect(Object.fromEntries(flags)).toEqual({
      '--metrics-addr': `:${values.metrics.port}`,
      '--health-addr': `:${values.health.port}`,
      '--leader-elect': 'true',
      '--lease-name': values.leaderElection.leaseName,
      '--lease-duration': values.leaderElection.leaseDuration,
      '--renew-deadline': values.leaderElection.renewDeadline,
      '--retry-period': values.leaderElection.retryPeriod,
      '--workers': String(values.workers),
      '--log-level': values.logLevel,
      '--xds-tls-profile': values.xds.tls.profile,
      '--xds-tls-cert': '/etc/meshpilot/xds-tls/tls.crt',
      '--xds-tls-key': '/etc/meshpilot/xds-tls/tls.key',
      '--xds-tls-client-ca': '/etc/meshpilot/xds-tls/ca.crt',
    });
  });

  it('names the ports metrics 8080, health 8081 and xds 18000, matching the flags', () => {
    const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ metrics: 8080, health: 8081, xds: 18000 });
    expect(flags.get('--metrics-addr')).toBe(`:${ports.metrics}`);
    expect(flags.get('--health-addr')).toBe(`:${ports.health}`);
  });

  it('probes /healthz and /readyz on the health port, never the xDS port', () => {
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(probe?.httpGet?.port ?? 'health').not.toBe('xds');
    }
  });

  it('passes POD_NAME and POD_NAMESPACE through the downward API', () => {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    expect(env.POD_NAME).toBe('metadata.name');
    expect(env.POD_NAMESPACE).toBe('metadata.namespace');
  });

  it('runs hardened: non-root 65532, read-only root filesystem with a writable /tmp, no capabilities, RuntimeDefault seccomp', () => {
    expectHardened(pod.securityContext, container.securityContext);
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes?.map((v) => v.name)).toContain('tmp');
  });

  it('runs two replicas behind a PodDisruptionBudget, with a grace period to release the Lease', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
    const pdb = find<Pdb>(manifests, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('selects its own pods from the Deployment, the Service and the optional ServiceMonitor', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    const service = find<Service>(manifests, 'Service');
    expect(selects(service.spec.selector)).toBe(true);
    const monitor = find<K8sObject>(optionalServiceMonitor, 'ServiceMonitor');
    const monitorSpec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(selects(monitorSpec.selector.matchLabels)).toBe(true);
    expect(monitorSpec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it('exposes metrics and xds on the Service, targeting the named container ports', () => {
    const service = find<Service>(manifests, 'Service');
    expect(service.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['metrics', 8080, 'metrics'],
      ['xds', 18000, 'xds'],
    ]);
  });

  it('puts every namespaced object into meshpilot-system', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of manifests) {
      if (!clusterScoped.has(o.kind)) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, NAMESPACE]);
    }
    expect(find<K8sObject>(manifests, 'Namespace').metadata.name).toBe(NAMESPACE);
  });

  it('runs the optional training CronJob from the same image, hardened and without an API token', () => {
    const cron = find<CronJob>(optionalTraining, 'CronJob');
    const spec = cron.spec.jobTemplate.spec.template.spec;
    const c = spec.containers[0] as Container;
    expect(c.image).toBe(container.image);
    expect(c.command).toBeUndefined(); // the image's ENTRYPOINT, as for the operator
    expect(c.args).toEqual(['train', '--scenarios', values.training.scenarios, '--out', values.training.out]);
    expect(c.volumeMounts).toContainEqual({ name: 'models', mountPath: values.training.persistence.mountPath });
    expect(values.training.out.startsWith(`${values.training.persistence.mountPath}/`)).toBe(true);
    expect(spec.automountServiceAccountToken).toBe(false);
    expectHardened(spec.securityContext, c.securityContext);
    find<K8sObject>(optionalTraining, 'PersistentVolumeClaim', 'meshpilot-models');
  });
});

describe('Helm chart deploy/helm/meshpilot', () => {
  it('has a v2 Chart.yaml whose appVersion is the package version and the manifests image tag', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('meshpilot');
    expect(chart.appVersion).toBe(pkg.version);
    expect(container.image).toBe(`meshpilot:${chart.appVersion}`);
  });

  it('ships the CRDs through a crds symlink to the top-level crds folder', () => {
    const link = join(CHART, 'crds');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(join(ROOT, 'crds')));
  });

  it('ships the dashboard through a symlink to deploy/grafana', () => {
    const link = join(CHART, 'dashboards', 'meshpilot-dashboard.json');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(join(DEPLOY, 'grafana', 'meshpilot-dashboard.json')));
  });

  it('defaults match the plain manifests (replicas, ports, probes, resources, security)', () => {
    expect(values.replicaCount).toBe(deployment.spec.replicas);
    expect(values.leaderElection.enabled).toBe(true);
    expect(values.terminationGracePeriodSeconds).toBe(pod.terminationGracePeriodSeconds);
    expect(values.livenessProbe).toEqual(container.livenessProbe);
    expect(values.readinessProbe).toEqual(container.readinessProbe);
    expect(values.resources).toEqual(container.resources);
    expect(values.podSecurityContext).toEqual(pod.securityContext);
    expect(values.securityContext).toEqual(container.securityContext);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
  });

  it('keeps opt-in parts off by default', () => {
    expect(values.meshOutputs.gatewayApi.enabled).toBe(false);
    expect(values.meshOutputs.istio.enabled).toBe(false);
    expect(values.training.enabled).toBe(false);
    expect(values.grafanaDashboard.enabled).toBe(false);
    expect(values.grafanaDashboard.labels).toEqual({ grafana_dashboard: '1' });
    for (const kind of ['ServiceMonitor', 'CronJob', 'ConfigMap']) {
      expect(manifests.filter((o) => o.kind === kind)).toEqual([]);
    }
  });

  it('templates grant the same RBAC rules as the plain manifests', () => {
    const roles = template('clusterrole.yaml').filter((o) => o.kind === 'ClusterRole') as RbacRole[];
    expect(roles).toHaveLength(2); // the operator's, and the opt-in mesh outputs'
    const [core, mesh] = roles as [RbacRole, RbacRole];
    expect(sortRules(core.rules)).toEqual(sortRules(clusterRole.rules));
    expect(sortRules(mesh.rules)).toEqual(sortRules(find<RbacRole>(meshRbac, 'ClusterRole').rules));
    const nsRole = find<RbacRole>(template('role.yaml'), 'Role');
    const withoutNames = (rules: PolicyRule[]) => sortRules(rules.map(({ resourceNames: _names, ...r }) => r));
    expect(withoutNames(nsRole.rules)).toEqual(withoutNames(role.rules));
  });

  it('deployment template passes the same flags, ports and env as the plain manifests', () => {
    const d = find<Deployment>(template('deployment.yaml'), 'Deployment');
    const c = d.spec.template.spec.containers[0] as Container;
    expect(c.args?.[0]).toBe('run');
    const templateFlags = [...flagMap(c.args ?? []).keys()].sort();
    // Rendered only when their value is set: --namespace (default: all namespaces) and the
    // telemetry endpoints, which have no default, and the plaintext xDS port (off by default).
    const optional = ['--namespace', '--prometheus-url', '--kafka-brokers', '--decision-log-topic', '--xds-plaintext-addr'];
    expect(templateFlags).toEqual([...flags.keys(), ...optional].sort());
    expect(c.ports?.map((p) => p.name).filter((n) => n !== 'xds-plaintext')).toEqual(container.ports?.map((p) => p.name));
    expect(c.env?.map((e) => e.name)).toEqual(container.env?.map((e) => e.name));
    expect(c.env).toEqual(container.env);
    expect(d.spec.template.spec.volumes?.map((v) => v.name)).toEqual(pod.volumes?.map((v) => v.name));
    const service = find<Service>(template('service.yaml'), 'Service');
    expect(service.spec.ports.map((p) => [p.name, p.targetPort])).toEqual(
      find<Service>(manifests, 'Service').spec.ports.map((p) => [p.name, p.targetPort]),
    );
  });

  it('declares in values.yaml every value the templates read', () => {
    const missing: string[] = [];
    for (const file of readdirSync(join(CHART, 'templates'))) {
      const text = read(join(CHART, 'templates', file));
      const paths = [
        ...[...text.matchAll(/\.Values((?:\.\w+)+)/g)].map((m) => m[1] ?? ''),
        // training-cronjob.yaml reads .Values.training through $t
        ...[...text.matchAll(/\$t((?:\.\w+)+)/g)].map((m) => `.training${m[1] ?? ''}`),
      ];
      for (const path of paths) {
        let node: unknown = values;
        for (const key of path.slice(1).split('.')) {
          node = node !== null && typeof node === 'object' && key in node ? (node as Record<string, unknown>)[key] : undefined;
          if (node === undefined) break;
        }
        if (node === undefined) missing.push(`${file}: .Values${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every template loosely renders to YAML of a known kind', () => {
    const files = readdirSync(join(CHART, 'templates')).filter((f) => f.endsWith('.yaml'));
    const kinds = files.flatMap((f) => template(f).map((o) => o.kind)).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole',
        'ClusterRole',
        // (ClusterRoleBindings come from the meshpilot.bindClusterRole helper: checked below.)
        'ConfigMap',
        'CronJob',
        'Deployment',
        'PersistentVolumeClaim',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ].sort(),
    );
  });
});

describe('Helm chart helper meshpilot.bindClusterRole', () => {
  it('binds a ClusterRole to the operator service account in the release namespace', () => {
    const helpers = read(join(CHART, 'templates', '_helpers.tpl'));
    const start = helpers.indexOf('{{- define "meshpilot.bindClusterRole" -}}');
    expect(start).toBeGreaterThanOrEqual(0);
    const body = helpers.slice(start).split('\n').slice(1).join('\n');
    // Both branches stay in a loose rendering; the later one (ClusterRoleBinding) wins.
    const binding = find<Binding>(parseStream(looseRender(body), '_helpers.tpl', { uniqueKeys: false }), 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'TEMPLATED' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'TEMPLATED', namespace: 'TEMPLATED' }]);
    expect(read(join(CHART, 'templates', 'clusterrolebinding.yaml'))).toContain('include "meshpilot.bindClusterRole"');
  });
});

// ---- Grafana dashboard --------------------------------------------------------------------

/** Metrics meshpilot exports today (histograms by base name). */
const KNOWN_METRICS = new Set([
  'meshpilot_tls_handshakes_total',
  'meshpilot_tls_credential_reloads_total',
  'meshpilot_tls_certificate_expiry_timestamp_seconds',
  'meshpilot_xds_plaintext_streams_total',
  'meshpilot_reconcile_total',
  'meshpilot_reconcile_duration_seconds_bucket',
  'meshpilot_workqueue_depth',
  'meshpilot_workqueue_retries_total',
  'meshpilot_leader_election_status',
  'meshpilot_process_resident_memory_bytes',
  'meshpilot_nodejs_eventloop_lag_p99_seconds',
  'meshpilot_xds_connected_nodes',
  'meshpilot_xds_pushes_total',
  'meshpilot_xds_acks_total',
  'meshpilot_xds_nacks_total',
  'meshpilot_xds_push_latency_seconds_bucket',
  'meshpilot_xds_requests_rejected_total',
  'meshpilot_telemetry_lag_seconds',
  'meshpilot_telemetry_windows',
  'meshpilot_telemetry_events_consumed_total',
  'meshpilot_telemetry_events_rejected_total',
  'meshpilot_telemetry_queries_total',
  'meshpilot_telemetry_query_duration_seconds_bucket',
  'meshpilot_telemetry_dead_letters_total',
  'meshpilot_telemetry_kafka_rebalances_total',
  'meshpilot_policy_decisions_total',
  'meshpilot_policy_guard_interventions_total',
  'meshpilot_policy_model_fallbacks_total',
  'meshpilot_policy_model_loads_total',
  'meshpilot_policy_inference_duration_seconds_bucket',
  'meshpilot_policy_model_info',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\$\w+/g, ''); // dashboard variables
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'].includes(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}

describe('Grafana dashboard deploy/grafana/meshpilot-dashboard.json', () => {
  const dashboard = JSON.parse(read(join(DEPLOY, 'grafana', 'meshpilot-dashboard.json'))) as {
    schemaVersion: number;
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown }[] };
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('has a Prometheus data source variable that every panel and query uses', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('${datasource}');
    }
  });

  it('queries only meshpilot_ metrics the operator exports, and every one of them', () => {
    const used = new Set(exprs.flatMap(metricNames));
    expect(exprs.length).toBeGreaterThan(0);
    for (const name of used) {
      expect(name.startsWith('meshpilot_')).toBe(true);
      expect([name, KNOWN_METRICS.has(name)]).toEqual([name, true]);
    }
    expect([...used].sort()).toEqual([...KNOWN_METRICS].sort());
  });

  it('finds metric names in PromQL the way the check above relies on', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (le) (rate(meshpilot_reconcile_duration_seconds_bucket{job=~"$job"}[5m])))'),
    ).toEqual(['meshpilot_reconcile_duration_seconds_bucket']);
    expect(metricNames('sum by (result) (rate(up[5m])) / on (x) foo_total')).toEqual(['up', 'foo_total']);
  });

  it('the chart ConfigMap template embeds this file', () => {
    const text = read(join(CHART, 'templates', 'grafana-dashboard.yaml'));
    expect(text).toContain('.Files.Get "dashboards/meshpilot-dashboard.json"');
  });
});

describe('every command a manifest runs', () => {
  const dockerfile = read(join(DEPLOY, 'Dockerfile'));
  const image = (word: string) => JSON.parse(new RegExp(`^${word} (\\[.*\\])$`, 'm').exec(dockerfile)![1]!) as string[];
  const entrypoint = image('ENTRYPOINT');
  const cmd = image('CMD');
  const containersOf = (objects: K8sObject[], file: string): [string, Container][] =>
    objects.flatMap((o) => {
      const spec = o.kind === 'Deployment' ? (o as Deployment).spec.template.spec : o.kind === 'CronJob' ? (o as CronJob).spec.jobTemplate.spec.template.spec : undefined;
      return (spec?.containers ?? []).map((c): [string, Container] => [`${file} ${o.kind}/${o.metadata.name} ${c.name}`, c as Container]);
    });
  const optional = readdirSync(join(DEPLOY, 'manifests', 'optional')).map((f) => join('optional', f));
  const containers = [
    ...['meshpilot.yaml', ...optional].flatMap((f) => containersOf(parseStream(read(join(DEPLOY, 'manifests', f)), f), `manifests/${f}`)),
    ...readdirSync(join(CHART, 'templates'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => containersOf(template(f), `templates/${f}`)),
  ];

  it('finds the containers of the operator and of training, in the manifests and the chart', () => {
    expect(containers.map(([where]) => where.split(' ')[0]).sort()).toEqual(
      ['manifests/meshpilot.yaml', 'manifests/optional/training.yaml', 'templates/deployment.yaml', 'templates/training-cronjob.yaml'].sort(),
    );
  });

  it.each(containers)('%s: the script exists, its command answers --help, and it takes every flag it is given', (_where, c) => {
    const argv = [...(c.command ?? entrypoint), ...(c.args ?? cmd)];
    expect(argv[0]).toBe('node');
    const script = argv[1]!;
    expect(existsSync(join(ROOT, script))).toBe(true);
    const command = argv[2]!;
    const help = execFileSync(process.execPath, [script, command, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(help).toContain(`Usage: meshpilot ${command}`);
    for (const flag of argv.slice(3).filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!)) expect([flag, help.includes(flag)]).toEqual([flag, true]);
  });
});

describe('the chart rendered by helm, and the manifests built by kustomize', () => {
  const helm = (...args: string[]) => execFileSync(helmBinary(), args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: '/tmp/meshpilot-helm-cache', HELM_CONFIG_HOME: '/tmp/meshpilot-helm-config', HELM_DATA_HOME: '/tmp/meshpilot-helm-data' } });
  const render = (...set: string[]) => parseStream(helm('template', 'meshpilot', CHART, '--namespace', NAMESPACE, '--include-crds', ...set.flatMap((s) => ['--set', s])), 'helm template');

  it('lints clean', () => {
    expect(helm('lint', CHART)).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders the defaults to the plain manifests\' kinds, with the CRDs of crds/', () => {
    const objects = render();
    const kinds = (list: K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    const plain = manifests.filter((o) => o.kind !== 'Namespace');
    expect(kinds(objects.filter((o) => o.kind !== 'CustomResourceDefinition'))).toEqual(kinds(plain));
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort()).toEqual(['adaptiveroutes.traffic.meshpilot.io', 'contactplans.traffic.meshpilot.io']);
    const d = find<Deployment>(objects, 'Deployment');
    const c = d.spec.template.spec.containers[0] as Container;
    expect(c.args).toEqual(container.args);
    expect(c.command).toBeUndefined();
  });

  it('renders every opt-in part, each container running a command that exists', () => {
    const objects = render('training.enabled=true', 'metrics.serviceMonitor.enabled=true', 'grafanaDashboard.enabled=true', 'meshOutputs.istio.enabled=true', 'meshOutputs.gatewayApi.enabled=true');
    for (const kind of ['CronJob', 'ServiceMonitor', 'ConfigMap', 'PersistentVolumeClaim']) find<K8sObject>(objects, kind);
    const cron = find<CronJob>(objects, 'CronJob');
    const trainer = cron.spec.jobTemplate.spec.template.spec.containers[0] as Container;
    expect(trainer.command).toBeUndefined();
    expect(trainer.args?.[0]).toBe('train');
    const help = execFileSync(process.execPath, ['operator/cli.ts', 'train', '--help'], { cwd: ROOT, encoding: 'utf8' });
    for (const flag of (trainer.args ?? []).filter((a) => a.startsWith('--'))) expect([flag, help.includes(flag)]).toEqual([flag, true]);
  });

  it('says in NOTES where proxies reach the xDS server', () => {
    const notes = helm('install', 'meshpilot', CHART, '--namespace', NAMESPACE, '--dry-run=client');
    expect(notes).toContain(`meshpilot.${NAMESPACE}:${values.xds.port}`);
    expect(notes.split('NOTES:')[1]).not.toContain('reserved');
  });

  it('builds deploy/manifests with kustomize to what meshpilot.yaml holds', () => {
    const built = parseStream(execFileSync(currentKubectl(), ['kustomize', join(DEPLOY, 'manifests')], { encoding: 'utf8', timeout: 60_000 }), 'kustomize');
    const names = (list: K8sObject[]) => list.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
    expect(names(built)).toEqual(names(manifests));
    expect((find<Deployment>(built, 'Deployment').spec.template.spec.containers[0] as Container).image).toBe('meshpilot:0.1.0');
  });
});
