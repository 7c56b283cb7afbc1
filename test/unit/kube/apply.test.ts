import { describe, expect, it } from '@jest/globals';
import { applyObject, type ApplyApi } from '../../../operator/kube/apply.ts';
import { KubeApiError } from '../../../operator/kube/api-error.ts';
import type { ResourceRef } from '../../../operator/kube/client.ts';
import type { KubeObject } from '../../../operator/kube/list-watch.ts';

type Route = KubeObject & { spec?: unknown; status?: unknown };
const ROUTES: ResourceRef = { group: 'traffic.meshpilot.io', version: 'v1alpha1', plural: 'adaptiveroutes', kind: 'AdaptiveRoute' };

/** One stored object with optimistic concurrency; `writeBetween` is a controller writing status between our read and our write. */
class Store implements ApplyApi {
  stored: Route | undefined;
  rv = 1;
  writesBetween = 0;
  createRaces = 0;

  async get<T extends KubeObject>(): Promise<T | undefined> {
    const read = this.stored ? (structuredClone(this.stored) as unknown as T) : undefined;
    if (this.writesBetween > 0 && this.stored) {
      this.writesBetween--;
      this.stored = { ...this.stored, metadata: { ...this.stored.metadata, resourceVersion: String(++this.rv) }, status: { n: this.rv } };
    }
    return read;
  }

  async create<T extends KubeObject>(_r: ResourceRef, obj: T): Promise<T> {
    if (this.createRaces > 0) {
      this.createRaces--;
      this.stored = { ...(obj as Route), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) }, status: { by: 'other' } };
    }
    if (this.stored) throw new KubeApiError(409, 'already exists');
    this.stored = { ...(obj as Route), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return this.stored as unknown as T;
  }

  async replace<T extends KubeObject>(_r: ResourceRef, obj: T): Promise<T> {
    if (obj.metadata.resourceVersion !== this.stored?.metadata.resourceVersion) throw new KubeApiError(409, 'the object has been modified');
    this.stored = { ...(obj as Route), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return this.stored as unknown as T;
  }
}

const route = (port: number): Route => ({ apiVersion: 'traffic.meshpilot.io/v1alpha1', kind: 'AdaptiveRoute', metadata: { name: 'demo', namespace: 'default', labels: { a: 'b' } }, spec: { port } });
const noSleep = { sleep: async () => undefined };

describe('applyObject', () => {
  it('replaces the spec when a controller writes status between each read and write, keeping that status', async () => {
    const store = new Store();
    await applyObject(store, ROUTES, route(1), noSleep);
    store.writesBetween = 3;
    await expect(applyObject(store, ROUTES, route(2), noSleep)).resolves.toBe('updated');
    expect(store.stored).toMatchObject({ spec: { port: 2 }, status: { n: 5 }, metadata: { labels: { a: 'b' } } });
  });

  it('updates when another writer creates the object between our read and our create', async () => {
    const store = new Store();
    store.createRaces = 1;
    await expect(applyObject(store, ROUTES, route(3), noSleep)).resolves.toBe('updated');
    expect(store.stored).toMatchObject({ spec: { port: 3 }, status: { by: 'other' } });
  });

  it('gives up after its attempts with the conflict, backing off between them', async () => {
    const store = new Store();
    await applyObject(store, ROUTES, route(1), noSleep);
    store.writesBetween = 100;
    const waits: number[] = [];
    await expect(applyObject(store, ROUTES, route(2), { attempts: 4, backoffMs: 10, random: () => 0.5, sleep: async (ms) => void waits.push(ms) })).rejects.toMatchObject({ statusCode: 409 });
    expect(waits).toEqual([10, 20, 40]);
  });

  it('does not retry what is not a conflict', async () => {
    const store = new Store();
    store.replace = async () => {
      throw new KubeApiError(422, 'invalid');
    };
    await applyObject(store, ROUTES, route(1), noSleep);
    await expect(applyObject(store, ROUTES, route(2), noSleep)).rejects.toMatchObject({ statusCode: 422 });
  });
});
