// The CustomResourceDefinitions in crds/, loaded and looked up: by group and plural (REST
// paths), by group and kind (objects), or by any name kubectl accepts (plural, singular, short
// name, kind). Everything that validates a spec reads its schema from here, so crds/ stays the
// single source of truth.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../base/errors.ts';
import { parseYamlDocuments } from './manifests.ts';
import type { JSONSchemaProps } from './schema/validate.ts';

/** The repository's crds/ directory, wherever the process runs from. */
export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

export interface PrinterColumn {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: JSONSchemaProps };
  subresources?: {
    status?: Record<string, never>;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface CrdNames {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames?: string[];
  categories?: string[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: CrdNames;
    versions: CrdVersion[];
  };
}

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS-1123 label');

const CrdShape = z.looseObject({
  apiVersion: z.literal('apiextensions.k8s.io/v1'),
  kind: z.literal('CustomResourceDefinition'),
  metadata: z.looseObject({ name: z.string().min(1) }),
  spec: z.looseObject({
    group: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, 'must be a DNS subdomain with at least one dot'),
    scope: z.enum(['Namespaced', 'Cluster']),
    names: z.looseObject({
      kind: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be CamelCase'),
      plural: dnsLabel,
      singular: dnsLabel.optional(),
      listKind: z.string().optional(),
      shortNames: z.array(dnsLabel).optional(),
      categories: z.array(z.string()).optional(),
    }),
    versions: z
      .array(
        z.looseObject({
          name: dnsLabel,
          served: z.boolean(),
          storage: z.boolean(),
          schema: z.looseObject({ openAPIV3Schema: z.looseObject({ type: z.literal('object') }) }),
          additionalPrinterColumns: z
            .array(
              z.looseObject({
                name: z.string().min(1),
                type: z.enum(['integer', 'number', 'string', 'boolean', 'date']),
                jsonPath: z.string().startsWith('.'),
              }),
            )
            .optional(),
        }),
      )
      .min(1)
      .refine((vs) => vs.filter((v) => v.storage).length === 1, 'exactly one version must be the storage version'),
  }),
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Checks that `doc` is an apiextensions.k8s.io/v1 CustomResourceDefinition meshpilot can
 * serve, and fills in the names the apiserver defaults (singular, listKind). Returns a frozen
 * copy. Throws ConfigError naming `source` and the offending field.
 */
export function parseCrd(doc: unknown, source: string): CustomResourceDefinition {
  const parsed = CrdShape.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
    throw new ConfigError(`${source}: not a valid CustomResourceDefinition: ${problems.join('; ')}`);
  }
  const crd = structuredClone(parsed.data) as unknown as CustomResourceDefinition;
  const names = crd.spec.names;
  names.singular ??= names.kind.toLowerCase();
  names.listKind ??= `${names.kind}List`;
  const expectedName = `${names.plural}.${crd.spec.group}`;
  if (crd.metadata.name !== expectedName) {
    throw new ConfigError(`${source}: metadata.name must be ${JSON.stringify(expectedName)} (<plural>.<group>), not ${JSON.stringify(crd.metadata.name)}`);
  }
  return deepFreeze(crd);
}

/** The columns the apiserver uses for a version without additionalPrinterColumns. */
const DEFAULT_COLUMNS: readonly PrinterColumn[] = deepFreeze([
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' } satisfies PrinterColumn,
]);

/** One CRD and where it came from. */
export interface LoadedCrd {
  manifest: CustomResourceDefinition;
  /** The file it was read from (or whatever the caller named its source). */
  source: string;
}

/**
 * A set of loaded CRDs; iterating it yields each { manifest, source } in load order. Lookups
 * return undefined when nothing matches; require, version, schema, printerColumns and
 * shortNames throw ConfigError instead.
 */
export class CrdCatalog implements Iterable<LoadedCrd> {
  readonly #crds: CustomResourceDefinition[] = [];
  readonly #sources = new Map<CustomResourceDefinition, string>();

  /** Throws ConfigError when two entries define the same plural or kind in one group. */
  constructor(entries: readonly LoadedCrd[]) {
    for (const { manifest: crd, source } of entries) {
      const clash = this.#crds.find(
        (other) =>
          other.spec.group === crd.spec.group &&
          (other.spec.names.plural === crd.spec.names.plural || other.spec.names.kind === crd.spec.names.kind),
      );
      if (clash) throw new ConfigError(`${source}: ${crd.metadata.name} is already defined by ${this.#sources.get(clash)}`);
      this.#crds.push(crd);
      this.#sources.set(crd, source);
    }
  }

  *[Symbol.iterator](): Iterator<LoadedCrd> {
    for (const manifest of this.#crds) yield { manifest, source: this.#sources.get(manifest)! };
  }

  list(): readonly CustomResourceDefinition[] {
    return this.#crds;
  }

  /** The file (or other source) a CRD was loaded from. */
  sourceOf(crd: CustomResourceDefinition): string | undefined {
    return this.#sources.get(crd);
  }

  byPlural(group: string, plural: string): CustomResourceDefinition | undefined {
    return this.#crds.find((c) => c.spec.group === group && c.spec.names.plural === plural);
  }

  byKind(group: string, kind: string): CustomResourceDefinition | undefined {
    return this.#crds.find((c) => c.spec.group === group && c.spec.names.kind === kind);
  }

  /**
   * The CRD a kubectl-style resource name means: plural, singular, short name or kind (any
   * case), optionally qualified by group ("ar", "adaptiveroutes.traffic.meshpilot.io").
   */
  find(resource: string): CustomResourceDefinition | undefined {
    const lower = resource.toLowerCase();
    const dot = lower.indexOf('.');
    const name = dot < 0 ? lower : lower.slice(0, dot);
    const group = dot < 0 ? undefined : lower.slice(dot + 1);
    return this.#crds.find((c) => {
      if (group !== undefined && c.spec.group !== group) return false;
      const n = c.spec.names;
      return n.plural === name || n.singular === name || n.kind.toLowerCase() === name || (n.shortNames ?? []).includes(name);
    });
  }

  /** Throws ConfigError when no CRD serves group/plural. */
  require(group: string, plural: string): CustomResourceDefinition {
    const crd = this.byPlural(group, plural);
    if (!crd) throw new ConfigError(`no CustomResourceDefinition for ${plural}.${group} (known: ${this.#crds.map((c) => c.metadata.name).join(', ') || 'none'})`);
    return crd;
  }

  /** The named version, or the storage version. Throws ConfigError when there is no such version. */
  version(group: string, plural: string, version?: string): CrdVersion {
    const crd = this.require(group, plural);
    const found = version === undefined ? crd.spec.versions.find((v) => v.storage) : crd.spec.versions.find((v) => v.name === version);
    if (!found) throw new ConfigError(`${crd.metadata.name} (${this.#sources.get(crd)}) has no version ${version}`);
    return found;
  }

  /** The version's openAPIV3Schema. Throws ConfigError as version() does. */
  schema(group: string, plural: string, version?: string): JSONSchemaProps {
    return this.version(group, plural, version).schema.openAPIV3Schema;
  }

  /** The version's printer columns; the apiserver's single Age column when it declares none. */
  printerColumns(group: string, plural: string, version?: string): readonly PrinterColumn[] {
    return this.version(group, plural, version).additionalPrinterColumns ?? DEFAULT_COLUMNS;
  }

  shortNames(group: string, plural: string): readonly string[] {
    return this.require(group, plural).spec.names.shortNames ?? [];
  }
}

/**
 * Loads every .yaml, .yml and .json file in `dir` (default: the repository's crds/); each
 * document must be a CustomResourceDefinition. Throws ConfigError naming the file on an
 * unreadable directory or file, invalid YAML or an invalid CRD.
 */
export function loadCrds(dir: string = DEFAULT_CRD_DIR): CrdCatalog {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (e) {
    throw new ConfigError(`cannot read CRD directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const entries: LoadedCrd[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
    const docs = parseYamlDocuments(text, path);
    docs.forEach((doc, i) => entries.push({ manifest: parseCrd(doc, docs.length > 1 ? `${path} (document ${i + 1})` : path), source: path }));
  }
  return new CrdCatalog(entries);
}

let defaultCatalog: CrdCatalog | undefined;

/** The repository's CRDs, loaded once on first use. Throws as loadCrds does. */
export function defaultCrds(): CrdCatalog {
  defaultCatalog ??= loadCrds();
  return defaultCatalog;
}
