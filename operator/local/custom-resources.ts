// Turns a CustomResourceDefinition into the ResourceType that serves its custom resources:
// served versions in kube's priority order, the status subresource, short names,
// categories, the OpenAPI schema per version, and printer columns evaluated with JSONPath
// exactly as kube-apiserver's CRD table convertor does (a column shows the first value its
// path finds; `date` columns show an age).
import type { JSONSchemaProps } from '../api/schema/validate.ts';
import { ageOf } from './human-duration.ts';
import { isObject } from '../base/plain-value.ts';
import { compileJsonPath } from './jsonpath.ts';
import type { KubeObject } from './kube-object.ts';
import type { PrinterColumn, ResourceType } from './resource-registry.ts';
import { ageColumn, nameColumn } from './table.ts';

/** The parts of a CRD spec this server reads. */
export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: Record<string, never>; scale?: unknown };
  additionalPrinterColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

const VERSION_RE = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** Kube's version priority: GA before beta before alpha, higher numbers first, others last alphabetically. */
export function compareKubeVersions(a: string, b: string): number {
  const ma = VERSION_RE.exec(a);
  const mb = VERSION_RE.exec(b);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (Number(ma[1]) !== Number(mb[1])) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

function printerColumn(c: NonNullable<CrdVersion['additionalPrinterColumns']>[number]): PrinterColumn {
  const path = compileJsonPath(c.jsonPath);
  return {
    definition: {
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    },
    cell(o: KubeObject, now: number): unknown {
      const value = path.find(o)[0];
      if (value === undefined || value === null) return null;
      switch (c.type) {
        case 'integer':
          return typeof value === 'number' ? Math.trunc(value) : null;
        case 'number':
          return typeof value === 'number' ? value : null;
        case 'boolean':
          return typeof value === 'boolean' ? value : null;
        case 'date':
          return typeof value === 'string' ? ageOf(value, now) : null;
        default:
          // kube prints any value into a string column (JSONPath's text form).
          return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
    },
  };
}

/**
 * The ResourceType serving a CRD's custom resources.
 * @throws Error when a printer column's JSONPath is outside the supported subset (the CRD
 *   validation reports that as a field error before this is called).
 */
export function resourceTypeFromCrd(spec: CrdSpec): ResourceType {
  const served = spec.versions.filter((v) => v.served).map((v) => v.name);
  served.sort(compareKubeVersions);
  const storage = spec.versions.find((v) => v.storage) ?? spec.versions[0];
  const preferred = spec.versions.find((v) => v.name === served[0]) ?? storage;
  const columns = (preferred?.additionalPrinterColumns ?? []).map(printerColumn);
  const byName = new Map(spec.versions.map((v) => [v.name, v]));
  const kind = spec.names.kind;
  return {
    group: spec.group,
    versions: served,
    storageVersion: storage?.name ?? served[0] ?? 'v1',
    plural: spec.names.plural,
    singular: spec.names.singular || kind.toLowerCase(),
    kind,
    listKind: spec.names.listKind || `${kind}List`,
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    namespaced: spec.scope !== 'Cluster',
    statusSubresource: isObject(storage?.subresources?.status),
    custom: true,
    tracksGeneration: true,
  nameFormat: 'dns-subdomain',
    fieldLabels: {},
    // A CRD without printer columns gets kube's default: Name and Age.
    columns: columns.length > 0 ? [nameColumn, ...columns] : [nameColumn, ageColumn],
    schema: (version) => byName.get(version)?.schema?.openAPIV3Schema,
  };
}
