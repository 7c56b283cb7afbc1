// Create-or-replace of a custom object that survives concurrent writers: a replace reads the
// current resourceVersion and retries on 409 with backoff, as client-go's RetryOnConflict
// does, so a controller writing status between our read and write cannot fail the apply.
import type { KubeObject } from './list-watch.ts';
import { isConflict } from './api-error.ts';
import type { ResourceRef } from './client.ts';
import { namespaceOf } from '../base/object-key.ts';

/** The calls `applyObject` needs (KubeApi has them). */
export interface ApplyApi {
  get<T extends KubeObject>(resource: ResourceRef, namespace: string, name: string): Promise<T | undefined>;
  create<T extends KubeObject>(resource: ResourceRef, obj: T): Promise<T>;
  replace<T extends KubeObject>(resource: ResourceRef, obj: T): Promise<T>;
}

export interface ApplyOptions {
  /** Attempts before a conflict is given up on (default 8). */
  attempts?: number;
  /** First backoff; doubles per conflict, with jitter (default 10 ms). */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Creates `obj`, or replaces the stored object's metadata labels, annotations and spec with
 * `obj`'s (its status is kept: the controller owns it). Idempotent.
 * @returns whether the object was created or updated.
 * @throws KubeApiError on anything but a conflict, or on a conflict after `attempts` tries.
 */
export async function applyObject<T extends KubeObject & { spec?: unknown }>(
  api: ApplyApi,
  resource: ResourceRef,
  obj: T,
  options: ApplyOptions = {},
): Promise<'created' | 'updated'> {
  const attempts = options.attempts ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const namespace = namespaceOf(obj.metadata);
  const name = obj.metadata.name!;
  let backoff = options.backoffMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      const current = await api.get<T>(resource, namespace, name);
      if (!current) {
        await api.create(resource, obj);
        return 'created';
      }
      await api.replace(resource, {
        ...current,
        metadata: { ...current.metadata, labels: obj.metadata.labels, annotations: obj.metadata.annotations },
        spec: obj.spec,
      });
      return 'updated';
    } catch (e) {
      // 409 on create: someone created it meanwhile; on replace: someone wrote it meanwhile.
      if (!isConflict(e) || attempt >= attempts) throw e;
      await sleep(backoff * (0.5 + random()));
      backoff *= 2;
    }
  }
}
