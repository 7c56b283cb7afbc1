// /openapi/v2 and /openapi/v3, as kube-apiserver publishes them for what it serves: every
// kind with a schema (the CRDs' own) as a definition carrying x-kubernetes-group-version-kind,
// and the resource paths whose operations name that kind. kubectl reads them for `explain`
// (v2 up to 1.26, v3 since) and for client-side validation (`apply --validate`, 1.20's v2).
// kubectl 1.20 downloads /openapi/v2 only as a gnostic `openapi.v2.Document` protobuf, so the
// v2 document is also encoded here by hand (openapi-v2-protobuf.ts).
import { createHash } from 'node:crypto';
import type { JSONSchemaProps } from '../api/schema/schema-types.ts';
import type { ResourceRegistry, ResourceType } from './resource-registry.ts';
import { encodeOpenApiV2 } from './openapi-v2-protobuf.ts';

function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** Definition name kube uses: reversed group, version, kind (io.meshpilot.traffic.v1alpha1.AdaptiveRoute). */
function definitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

interface Served {
  type: ResourceType;
  version: string;
  schema: JSONSchemaProps;
  name: string;
}

/** Every served (kind, version) with a schema; `only` narrows it to one group-version. */
function served(registry: ResourceRegistry, only?: { group: string; version: string }): Served[] {
  const out: Served[] = [];
  for (const type of registry.all()) {
    for (const version of type.versions) {
      if (only && (type.group !== only.group || version !== only.version)) continue;
      const schema = type.schema?.(version);
      if (!schema) continue;
      out.push({ type, version, schema, name: definitionName(type.group, version, type.kind) });
    }
  }
  return out;
}

/** The resource paths of `s` (list across namespaces, namespaced list, one object), each with a get naming its kind. */
function resourcePaths(s: Served, ref: string): Record<string, unknown> {
  const base = `/${groupVersionPath(s.type.group, s.version)}`;
  const gvk = { group: s.type.group, version: s.version, kind: s.type.kind };
  const operation = (action: 'list' | 'get') => ({
    get: {
      description: `${action === 'list' ? 'list' : 'read'} ${s.type.kind}`,
      operationId: `${action}${s.type.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      responses: { 200: { description: 'OK', schema: { $ref: ref }, content: { 'application/json': { schema: { $ref: ref } } } } },
    },
  });
  const paths: Record<string, unknown> = { [`${base}/${s.type.plural}`]: operation('list') };
  if (s.type.namespaced) {
    paths[`${base}/namespaces/{namespace}/${s.type.plural}`] = operation('list');
    paths[`${base}/namespaces/{namespace}/${s.type.plural}/{name}`] = operation('get');
  } else {
    paths[`${base}/${s.type.plural}/{name}`] = operation('get');
  }
  return paths;
}

/** OpenAPI v2 has no `nullable` and no x-kubernetes-* validation extensions it could use: drop them, as kube-openapi does. */
function toV2Schema(schema: JSONSchemaProps): Record<string, unknown> {
  const walk = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(walk);
    if (s === null || typeof s !== 'object') return s;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === 'nullable' || k === 'x-kubernetes-validations' || k === 'anyOf' || k === 'oneOf' || k === 'not') continue;
      out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, ps]) => [p, walk(ps)])) : walk(v);
    }
    return out;
  };
  return walk(schema) as Record<string, unknown>;
}

/** GET /openapi/v2 as JSON. */
export function openApiV2Json(registry: ResourceRegistry, serverVersion: string): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const s of served(registry)) {
    definitions[s.name] = { ...toV2Schema(s.schema), 'x-kubernetes-group-version-kind': [{ group: s.type.group, version: s.version, kind: s.type.kind }] };
    for (const [path, item] of Object.entries(resourcePaths(s, `#/definitions/${s.name}`))) {
      const get = (item as { get: Record<string, unknown> & { responses: Record<string, Record<string, unknown>> } }).get;
      paths[path] = { get: { ...get, responses: { 200: { description: 'OK', schema: get.responses[200]!.schema } } } };
    }
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: serverVersion }, paths, definitions };
}

/** GET /openapi/v2 as kube-openapi's protobuf (what kubectl 1.20 asks for). */
export function openApiV2Protobuf(registry: ResourceRegistry, serverVersion: string): Buffer {
  return encodeOpenApiV2(openApiV2Json(registry, serverVersion) as Parameters<typeof encodeOpenApiV2>[0]);
}

/** GET /openapi/v3/apis/{group}/{version}, or undefined when nothing is served there. */
export function openApiV3Document(registry: ResourceRegistry, group: string, version: string, serverVersion: string): Record<string, unknown> | undefined {
  if (!registry.all().some((t) => t.group === group && t.versions.includes(version))) return undefined;
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const s of served(registry, { group, version })) {
    schemas[s.name] = { ...s.schema, 'x-kubernetes-group-version-kind': [{ group, version, kind: s.type.kind }] };
    for (const [path, item] of Object.entries(resourcePaths(s, `#/components/schemas/${s.name}`))) {
      const get = (item as { get: Record<string, unknown> & { responses: Record<string, Record<string, unknown>> } }).get;
      paths[path] = { get: { ...get, responses: { 200: { description: 'OK', content: get.responses[200]!.content } } } };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: serverVersion }, paths, components: { schemas } };
}

/** GET /openapi/v3: one entry per served group-version, with a hash of its document. */
export function openApiV3Index(registry: ResourceRegistry, serverVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const g of registry.groups()) {
    for (const v of g.versions) {
      const p = groupVersionPath(g.name, v);
      const doc = openApiV3Document(registry, g.name, v, serverVersion);
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
    }
  }
  return { paths };
}
