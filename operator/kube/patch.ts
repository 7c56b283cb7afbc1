// JSON merge patches (RFC 7386) for the two things meshpilot changes on objects it does not
// own: the status subresource and metadata.finalizers. client-node 2.x sends patches as
// application/json-patch+json unless a request option overrides the Content-Type.
import { PatchStrategy, setHeaderOptions, type ConfigurationOptions } from '@kubernetes/client-node';
import type { KubeObject } from './list-watch.ts';

/** Request options that make a client-node 2.x patch call a JSON merge patch. */
export function mergePatchOptions(): ConfigurationOptions {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

/**
 * The merge patch that sets `status` (sent to the `/status` subresource). Members of
 * `status` absent from the patch are kept; arrays in it replace the stored ones whole.
 */
export function statusPatch<S extends object>(status: S): { status: S } {
  return { status };
}

/**
 * The merge patch that sets the finalizer list to `finalizers`. It carries the
 * resourceVersion the list was computed from, so the server refuses it with 409 if anyone
 * changed the object since (a merge patch replaces the list whole; without the guard a
 * concurrent finalizer of another controller could be lost).
 */
export function finalizersPatch(
  obj: KubeObject,
  finalizers: string[],
): { metadata: { finalizers: string[]; resourceVersion?: string } } {
  return { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } };
}

/** The finalizer list with `name` added (unchanged if present). Pure. */
export function withFinalizer(obj: KubeObject, name: string): string[] {
  const current = obj.metadata.finalizers ?? [];
  return current.includes(name) ? [...current] : [...current, name];
}

/** The finalizer list without `name`. Pure. */
export function withoutFinalizer(obj: KubeObject, name: string): string[] {
  return (obj.metadata.finalizers ?? []).filter((f) => f !== name);
}
