// The loose shape of any object the local API server stores: apiVersion, kind, metadata and
// whatever else the kind carries. Kind-specific shape is checked by the kind's handler (and
// for custom resources by the CRD's schema), never by this type.

import type { ObjectMeta } from '../api/types.ts';

/**
 * ObjectMeta as stored: the operator's ObjectMeta with every field optional until the server
 * fills it in, the fields only a server handles, and whatever else a client sent.
 */
export interface StoredMeta extends Omit<Partial<ObjectMeta>, 'ownerReferences'> {
  generateName?: string;
  deletionGracePeriodSeconds?: number;
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [k: string]: unknown;
}

/** A stored object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: StoredMeta;
  [k: string]: unknown;
}

/** Deep copy, so that callers never mutate what the store holds. */
export function cloneObject<T>(o: T): T {
  return structuredClone(o);
}
