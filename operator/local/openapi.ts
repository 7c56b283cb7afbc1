// /openapi/v2 and /openapi/v3. kubectl 1.20 downloads /openapi/v2 as a gnostic
// `openapi.v2.Document` protobuf before `apply` and fails if it cannot parse it; with no
// definitions it skips client-side validation and uses merge patches for custom resources,
// and the server validates instead. /openapi/v3 lists each served group-version with the
// CRD schemas of its kinds.
import { createHash } from 'node:crypto';
import type { ResourceRegistry } from './resource-registry.ts';

/** Protobuf wire format for the few fields needed: length-delimited fields only. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lengthDelimited(fieldNumber: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((fieldNumber << 3) | 2), ...varint(payload.length)]), payload]);
}

function str(fieldNumber: number, value: string): Buffer {
  return lengthDelimited(fieldNumber, Buffer.from(value, 'utf8'));
}

/**
 * gnostic openapi.v2.Document { swagger = 1; info = 2 { title = 1; version = 2 }; paths = 8 {} ; definitions = 9 {} }.
 */
export function openApiV2Protobuf(version: string): Buffer {
  const info = Buffer.concat([str(1, 'Kubernetes'), str(2, version)]);
  return Buffer.concat([str(1, '2.0'), lengthDelimited(2, info), lengthDelimited(8, Buffer.alloc(0)), lengthDelimited(9, Buffer.alloc(0))]);
}

/** The same document as JSON. */
export function openApiV2Json(version: string): Record<string, unknown> {
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths: {}, definitions: {} };
}

function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** Definition name kube uses: reversed group, version, kind (io.meshpilot.traffic.v1alpha1.AdaptiveRoute). */
function definitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

/** GET /openapi/v3/apis/{group}/{version}, or undefined when nothing is served there. */
export function openApiV3Document(registry: ResourceRegistry, group: string, version: string, serverVersion: string): Record<string, unknown> | undefined {
  const types = registry.all().filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const schema = t.schema?.(version);
    schemas[definitionName(group, version, t.kind)] = {
      ...(schema ?? { type: 'object' }),
      'x-kubernetes-group-version-kind': [{ group, version, kind: t.kind }],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: serverVersion }, paths: {}, components: { schemas } };
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
