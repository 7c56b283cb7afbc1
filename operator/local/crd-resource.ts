// apiextensions.k8s.io/v1 CustomResourceDefinitions as a served kind: the checks
// kube-apiserver makes before it will serve a CRD (name = plural.group, one storage version,
// a schema per version, immutable group and scope, printable columns), and the status it
// reports once the names are accepted (Established, NamesAccepted, storedVersions).
import { isObject } from '../base/plain-value.ts';
import { compileJsonPath } from './jsonpath.ts';
import type { KubeObject } from './kube-object.ts';
import type { CrdSpec } from './custom-resources.ts';
import type { ResourceType } from './resource-registry.ts';
import type { StatusCause } from './status.ts';
import { nameColumn } from './table.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

function required(field: string, detail = ''): StatusCause {
  return { reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];

/** additionalPrinterColumns: a list of {name, type, jsonPath, ...} whose JSONPath compiles. */
function printerColumnProblems(columns: unknown, path: string): StatusCause[] {
  if (columns === undefined || columns === null) return [];
  if (!Array.isArray(columns)) return [invalidValue(path, columns, 'must be a list of printer columns')];
  const causes: StatusCause[] = [];
  columns.forEach((c: unknown, j) => {
    const at = `${path}[${j}]`;
    if (!isObject(c)) return causes.push(invalidValue(at, c, 'must be an object {name, type, jsonPath}'));
    if (typeof c.name !== 'string' || c.name === '') causes.push(required(`${at}.name`));
    if (typeof c.type !== 'string' || !COLUMN_TYPES.includes(c.type)) {
      causes.push({ reason: 'FieldValueNotSupported', field: `${at}.type`, message: `Unsupported value: ${JSON.stringify(c.type)}: supported values: ${COLUMN_TYPES.map((t) => `"${t}"`).join(', ')}` });
    }
    if (c.priority !== undefined && !Number.isSafeInteger(c.priority)) causes.push(invalidValue(`${at}.priority`, c.priority, 'must be an integer'));
    for (const f of ['format', 'description'] as const) if (c[f] !== undefined && typeof c[f] !== 'string') causes.push(invalidValue(`${at}.${f}`, c[f], 'must be a string'));
    if (typeof c.jsonPath !== 'string' || c.jsonPath === '') return causes.push(required(`${at}.jsonPath`));
    try {
      compileJsonPath(c.jsonPath);
    } catch (e) {
      causes.push(invalidValue(`${at}.jsonPath`, c.jsonPath, (e as Error).message));
    }
    return undefined;
  });
  return causes;
}

/** Checks a CRD the way kube-apiserver does before serving it; causes name their field. */
export function validateCrd(crd: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isObject(crd.spec) ? (crd.spec as unknown as Partial<CrdSpec>) : undefined;
  if (!spec) return [required('spec')];
  const group = spec.group;
  if (typeof group !== 'string' || group === '') causes.push(required('spec.group'));
  else if (!group.includes('.')) causes.push(invalidValue('spec.group', group, 'should be a domain with at least one dot'));
  const names = isObject(spec.names) ? spec.names : undefined;
  if (!names) causes.push(required('spec.names'));
  else {
    if (typeof names.plural !== 'string' || names.plural === '') causes.push(required('spec.names.plural'));
    else if (!DNS_LABEL.test(names.plural)) causes.push(invalidValue('spec.names.plural', names.plural, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''));
    if (typeof names.kind !== 'string' || names.kind === '') causes.push(required('spec.names.kind'));
    if (typeof names.plural === 'string' && typeof group === 'string' && crd.metadata.name !== `${names.plural}.${group}`) {
      causes.push(invalidValue('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    }
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"` });
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) causes.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  else {
    const storage = versions.filter((v) => isObject(v) && v.storage === true).length;
    if (storage !== 1) causes.push(invalidValue('spec.versions', versions.map((v) => (isObject(v) ? v.name : v)), 'must have exactly one version marked as storage version'));
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      const path = `spec.versions[${i}]`;
      if (!isObject(v) || typeof v.name !== 'string' || v.name === '') return causes.push(required(`${path}.name`));
      if (seen.has(v.name)) causes.push({ reason: 'FieldValueDuplicate', field: `${path}.name`, message: `Duplicate value: ${JSON.stringify(v.name)}` });
      seen.add(v.name);
      const schema = v.schema?.openAPIV3Schema;
      if (!isObject(schema)) causes.push(required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
      else if (schema.type !== 'object') causes.push({ reason: 'FieldValueNotSupported', field: `${path}.schema.openAPIV3Schema.type`, message: `Unsupported value: ${JSON.stringify(schema.type)}: supported values: "object"` });
      causes.push(...printerColumnProblems(v.additionalPrinterColumns as unknown, `${path}.additionalPrinterColumns`));
      return undefined;
    });
  }
  if (old && isObject(old.spec)) {
    const oldSpec = old.spec as unknown as CrdSpec;
    if (oldSpec.group !== spec.group) causes.push(invalidValue('spec.group', spec.group, 'field is immutable'));
    if (oldSpec.scope !== spec.scope) causes.push(invalidValue('spec.scope', spec.scope, 'field is immutable'));
  }
  return causes;
}

/** Fills the status a real server reports once a CRD is being served. */
function establish(crd: KubeObject, old: KubeObject | undefined, now: () => string): void {
  const spec = crd.spec as unknown as CrdSpec;
  const names = spec.names;
  const acceptedNames = {
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
    ...(names.categories?.length ? { categories: names.categories } : {}),
  };
  const oldStatus = old && isObject(old.status) ? old.status : {};
  const oldConditions = Array.isArray(oldStatus.conditions) ? (oldStatus.conditions as Record<string, unknown>[]) : [];
  const since = (type: string) => oldConditions.find((c) => c.type === type)?.lastTransitionTime ?? now();
  const storage = spec.versions.find((v) => v.storage)?.name;
  const stored = Array.isArray(oldStatus.storedVersions) ? [...(oldStatus.storedVersions as string[])] : [];
  if (storage && !stored.includes(storage)) stored.push(storage);
  crd.status = {
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: since('NamesAccepted'), reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: since('Established'), reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    acceptedNames,
    storedVersions: stored,
  };
}

/** The CustomResourceDefinition kind. `now` gives RFC 3339 timestamps for conditions. */
export function crdResourceType(now: () => string): ResourceType {
  return {
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    storageVersion: 'v1',
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    listKind: 'CustomResourceDefinitionList',
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    namespaced: false,
    statusSubresource: true,
    custom: false,
    tracksGeneration: true,
  nameFormat: 'dns-subdomain',
    fieldLabels: {},
    columns: [
      nameColumn,
      {
        definition: { name: 'Created At', type: 'date', format: '', description: 'When the CRD was created', priority: 0 },
        cell: (o) => o.metadata.creationTimestamp ?? null,
      },
    ],
    validate: validateCrd,
    prepareCreate: (o) => establish(o, undefined, now),
    prepareUpdate: (o, old) => establish(o, old, now),
  };
}
