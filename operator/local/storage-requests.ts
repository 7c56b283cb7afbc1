// What a request asks of the resource storage, and what it gets back: the scope it addresses
// (resource, version, namespace, subresource, dry run), list queries and pages, delete options
// and write results. The HTTP handler builds these; the storage answers them.
import type { FieldValidation } from './custom-resource-schema.ts';
import type { KubeObject } from './kube-object.ts';
import type { ResourceType } from './resource-registry.ts';
import type { FieldRequirement, LabelRequirement } from './selectors.ts';

/** Which resource, version and namespace a request addresses, and how it wants writes handled. */
export interface RequestScope {
  type: ResourceType;
  version: string;
  /** Namespace from the URL (namespaced kinds only). */
  namespace?: string;
  subresource?: 'status';
  fieldValidation: FieldValidation;
  dryRun: boolean;
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  /** 201 on create, 202 when a delete is pending on finalizers, else 200. */
  code: number;
  /** For deletes of built-in kinds: the object is gone and a Success Status is the answer. */
  deleted?: boolean;
}

export interface ListQuery {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  limit?: number;
  continueToken?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}
