// What the server knows about each resource it serves (built-in kinds and kinds registered
// by CustomResourceDefinitions), and the registry that discovery and routing read. A
// resource is identified by its storage type, `group/plural`.
import type { JSONSchemaProps } from '../api/schema/validate.ts';
import type { KubeObject } from './kube-object.ts';
import type { StatusCause } from './status.ts';

/** A meta/v1 TableColumnDefinition. */
export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** A printer column and how to compute its cell. */
export interface PrinterColumn {
  definition: ColumnDefinition;
  cell(object: KubeObject, now: number): unknown;
}

/** Everything the server needs to serve one resource. */
export interface ResourceType {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  storageVersion: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  statusSubresource: boolean;
  /** Verbs served; every verb when absent (namespaces have no deletecollection). */
  verbs?: readonly string[];
  /** Custom resources: schema validation, no strategic merge patch, DELETE returns the object. */
  custom: boolean;
  /** Whether metadata.generation is kept (custom resources and CRDs; not events, leases, namespaces). */
  tracksGeneration: boolean;
  /** 'dns-label' for namespaces, 'dns-subdomain' otherwise. */
  nameFormat: 'dns-label' | 'dns-subdomain';
  /** Field selector labels beyond metadata.name / metadata.namespace. */
  fieldLabels: Record<string, (object: KubeObject) => string>;
  columns: PrinterColumn[];
  /** The OpenAPI schema of a custom resource version. */
  schema?(version: string): JSONSchemaProps | undefined;
  /** Kind-specific normalisation on create (e.g. a namespace's phase). */
  prepareCreate?(object: KubeObject): void;
  /** Kind-specific normalisation on update of the main resource. */
  prepareUpdate?(object: KubeObject, old: KubeObject): void;
  /** Kind-specific validation; causes name their field. */
  validate?(object: KubeObject, old: KubeObject | undefined): StatusCause[];
}

/** `group/plural`, the key objects are stored under. */
export function storageTypeOf(group: string, plural: string): string {
  return `${group}/${plural}`;
}

/** The API version string for a group and version (`v1` for the core group). */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The resources currently served. */
export class ResourceRegistry {
  readonly #types = new Map<string, ResourceType>();

  register(type: ResourceType): void {
    this.#types.set(storageTypeOf(type.group, type.plural), type);
  }

  unregister(group: string, plural: string): void {
    this.#types.delete(storageTypeOf(group, plural));
  }

  /** The resource served at `group/version/plural`, if that version is served. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.#types.get(storageTypeOf(group, plural));
    return t && t.versions.includes(version) ? t : undefined;
  }

  byStorageType(storageType: string): ResourceType | undefined {
    return this.#types.get(storageType);
  }

  all(): ResourceType[] {
    return [...this.#types.values()];
  }

  /** Groups with their versions, built-in groups first (kubectl resolves short names in this order). */
  groups(): { name: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const t of this.#types.values()) {
      const vs = groups.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      groups.set(t.group, vs);
    }
    return [...groups.entries()].map(([name, versions]) => ({ name, versions }));
  }
}
