// The write rules of kube-apiserver's generic registry, for every kind this server serves:
// what create, update (main resource or status subresource), patch and delete do to an
// object — system fields, generation, optimistic concurrency, the status subresource split,
// finalizers and deletionTimestamp, namespace termination, CRD (un)registration — on top of
// the durable ObjectStore. Every method runs synchronously from read to write, so requests
// are serialized without locks.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../base/clock.ts';
import { crdResourceType } from './crd-resource.ts';
import { decodeCustomResource, validateCustomResource } from './custom-resource-schema.ts';
import { resourceTypeFromCrd } from './custom-resources.ts';
import type { CrdSpec } from './custom-resources.ts';
import { isObject } from '../base/plain-value.ts';
import { deepEqual } from './json-util.ts';
import type { KubeObject } from './kube-object.ts';
import { cloneObject } from './kube-object.ts';
import { generateName, metaProblems, metaTypeProblem, nameProblems, sanitizeMeta } from './object-meta.ts';
import type { ObjectStore } from './object-store.ts';
import { listPage } from './list-page.ts';
import { applyPatch } from './patch.ts';
import { MAX_BODY_NESTING, MAX_OBJECT_BYTES } from './http-io.ts';
import { plainValueProblem } from '../base/plain-value.ts';
import { apiVersionOf, storageTypeOf } from './resource-registry.ts';
import type { ResourceRegistry, ResourceType } from './resource-registry.ts';
import { ApiError, STALE_OBJECT, alreadyExists, badRequest, conflict, failure, invalid, notFound } from './status.ts';
import type { StatusCause } from './status.ts';
import type { DeleteOptions, ListQuery, ListResult, RequestScope, WriteResult } from './storage-requests.ts';

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const NAMESPACES = storageTypeOf('', 'namespaces');
const CRDS = storageTypeOf('apiextensions.k8s.io', 'customresourcedefinitions');

/** RFC 3339 with seconds, as metav1.Time serializes. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function resourceName(type: ResourceType): { group: string; name: string } {
  return { group: type.group, name: type.plural };
}

function kindName(type: ResourceType): { group: string; name: string } {
  return { group: type.group, name: type.kind };
}

/** The object minus what does not count for metadata.generation. */
function specPart(o: KubeObject, dropStatus: boolean): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...o };
  delete rest.metadata;
  delete rest.apiVersion;
  delete rest.kind;
  if (dropStatus) delete rest.status;
  return rest;
}

function withoutRv(o: KubeObject): KubeObject {
  const meta = { ...o.metadata };
  delete meta.resourceVersion;
  return { ...o, metadata: meta };
}

/** Generic registry over the store; also owns the resource registry's CRD-driven part. */
export class ResourceStorage {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  readonly #clock: Clock;

  constructor(store: ObjectStore, registry: ResourceRegistry, clock: Clock) {
    this.store = store;
    this.registry = registry;
    this.#clock = clock;
  }

  #now(): string {
    return rfc3339(this.#clock.now());
  }

  /** The type the CRD kind is served with (shares this storage's clock). */
  crdType(): ResourceType {
    return crdResourceType(() => this.#now());
  }

  /** Serves every stored CRD; called once after loading. */
  registerStoredCrds(): void {
    for (const crd of this.store.list(CRDS)) this.#registerCrd(crd);
  }

  #registerCrd(crd: KubeObject): void {
    this.registry.register(resourceTypeFromCrd(crd.spec as unknown as CrdSpec));
  }

  /** The object as served at `version`. */
  served(type: ResourceType, version: string, o: KubeObject): KubeObject {
    return { ...o, apiVersion: apiVersionOf(type.group, version), kind: type.kind };
  }

  #storageType(type: ResourceType): string {
    return storageTypeOf(type.group, type.plural);
  }

  /** @throws ApiError 404 when the object does not exist. */
  get(scope: RequestScope, name: string): KubeObject {
    const o = this.store.get(this.#storageType(scope.type), scope.namespace, name);
    if (!o) throw notFound(resourceName(scope.type), name);
    return o;
  }

  /** Lists with selectors and pagination; `continueToken` resumes after the last key of the previous page. */
  list(scope: RequestScope, query: ListQuery): ListResult {
    const type = scope.type;
    const objects = this.store.list(this.#storageType(type), type.namespaced ? scope.namespace : undefined);
    return listPage(objects, type, query, String(this.store.resourceVersion));
  }

  #checkEnvelope(scope: RequestScope, body: unknown): KubeObject {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    const expected = apiVersionOf(scope.type.group, scope.version);
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (body.kind !== undefined && body.kind !== scope.type.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${scope.type.kind})`);
    }
    const metaProblem = metaTypeProblem(body.metadata);
    if (metaProblem) throw badRequest(metaProblem);
    const o = { ...body, apiVersion: apiVersionOf(scope.type.group, scope.type.storageVersion), kind: scope.type.kind, metadata: sanitizeMeta(body.metadata) } as KubeObject;
    if (scope.type.namespaced) {
      if (o.metadata.namespace && o.metadata.namespace !== scope.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      o.metadata.namespace = scope.namespace;
    } else delete o.metadata.namespace;
    return o;
  }

  /**
   * What etcd would refuse: an object over its request limit. (Nesting is checked where a value
   * comes in: request bodies in decodeBody, patched objects in patch().)
   */
  #checkStorable(o: KubeObject): void {
    const bytes = Buffer.byteLength(JSON.stringify(o));
    if (bytes > MAX_OBJECT_BYTES) {
      throw new ApiError(failure(413, 'RequestEntityTooLarge', `Request entity too large: the object is ${bytes} bytes; the limit is ${MAX_OBJECT_BYTES}`));
    }
  }

  #validate(scope: RequestScope, o: KubeObject, old: KubeObject | undefined): void {
    const type = scope.type;
    const causes: StatusCause[] = [];
    if (!old) causes.push(...nameProblems(o.metadata.name ?? '', type.nameFormat));
    causes.push(...metaProblems(o.metadata));
    if (type.validate) causes.push(...type.validate(o, old));
    if (type.custom && causes.length === 0) causes.push(...validateCustomResource(type, scope.version, o, old));
    if (causes.length > 0) throw invalid(kindName(type), o.metadata.name ?? '', causes);
  }

  #requireNamespace(scope: RequestScope, name: string): void {
    if (!scope.type.namespaced) return;
    const ns = this.store.get(NAMESPACES, undefined, scope.namespace ?? '');
    if (!ns) throw notFound({ group: '', name: 'namespaces' }, scope.namespace ?? '');
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(
        failure(403, 'Forbidden', `${scope.type.group ? `${scope.type.plural}.${scope.type.group}` : scope.type.plural} "${name}" is forbidden: unable to create new content in namespace ${scope.namespace} because it is being terminated`, {
          name,
          group: scope.type.group,
          kind: scope.type.plural,
        }),
      );
    }
  }

  /**
   * POST: creates an object.
   * @throws ApiError 400 (malformed, strict unknown fields), 404 (namespace), 409 AlreadyExists, 422 Invalid.
   */
  create(scope: RequestScope, body: unknown): WriteResult {
    const type = scope.type;
    const o = this.#checkEnvelope(scope, body);
    const meta = o.metadata;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    if (!meta.name) {
      throw invalid(kindName(type), '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    this.#checkStorable(o);
    const warnings = type.custom ? decodeCustomResource(type, scope.version, o, scope.fieldValidation) : [];
    this.#requireNamespace(scope, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = this.#now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    delete meta.managedFields;
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (type.custom && type.statusSubresource) delete o.status;
    this.#validate(scope, o, undefined);
    type.prepareCreate?.(o);
    const storageType = this.#storageType(type);
    if (this.store.get(storageType, meta.namespace, meta.name)) throw alreadyExists(resourceName(type), meta.name);
    const stored = scope.dryRun ? { ...o, metadata: { ...o.metadata, resourceVersion: String(this.store.resourceVersion) } } : this.store.put(storageType, o);
    if (!scope.dryRun && storageType === CRDS) this.#registerCrd(stored);
    return { object: this.served(type, scope.version, stored), warnings, code: 201 };
  }

  /**
   * PUT: replaces an object (or, for the status subresource, only its status).
   * @throws ApiError 404, 409 Conflict on a stale resourceVersion, 422 Invalid.
   */
  update(scope: RequestScope, name: string, body: unknown): WriteResult {
    const old = this.get(scope, name);
    const o = this.#checkEnvelope(scope, body);
    if (o.metadata.name !== undefined && o.metadata.name !== name) {
      throw badRequest(`the name of the object (${o.metadata.name}) does not match the name on the URL (${name})`);
    }
    o.metadata.name = name;
    return this.#applyUpdate(scope, old, o);
  }

  /**
   * PATCH: applies a merge or JSON patch (strategic merge only for built-in kinds) to the
   * current object and updates it. A patch that sets metadata.resourceVersion is conditional.
   * @throws ApiError 415 for an unsupported patch type, plus whatever update throws.
   */
  patch(scope: RequestScope, name: string, contentType: string, patchBody: unknown): WriteResult {
    const old = this.get(scope, name);
    const patched = applyPatch(this.served(scope.type, scope.version, cloneObject(old)), contentType, patchBody, !scope.type.custom);
    // A JSON patch's copies can nest the object deeper than any body could arrive.
    const shape = plainValueProblem(patched, MAX_BODY_NESTING);
    if (shape) throw invalid(kindName(scope.type), name, [{ reason: 'FieldValueInvalid', field: '', message: `Invalid value: ${shape}` }]);
    const o = this.#checkEnvelope(scope, patched);
    if (o.metadata.name !== name) throw badRequest(`the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${name})`);
    return this.#applyUpdate(scope, old, o);
  }

  #applyUpdate(scope: RequestScope, old: KubeObject, incoming: KubeObject): WriteResult {
    const type = scope.type;
    this.#checkStorable(incoming);
    const warnings = type.custom ? decodeCustomResource(type, scope.version, incoming, scope.fieldValidation) : [];
    const rv = incoming.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(resourceName(type), old.metadata.name ?? '', STALE_OBJECT);
    let next: KubeObject;
    if (scope.subresource === 'status') {
      // A status write changes status and nothing else.
      next = cloneObject(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      const meta = next.metadata;
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      if (old.metadata.namespace === undefined) delete meta.namespace;
      else meta.namespace = old.metadata.namespace;
      if (old.metadata.deletionTimestamp) {
        meta.deletionTimestamp = old.metadata.deletionTimestamp;
        meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      } else {
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
      }
      delete meta.managedFields;
      delete meta.selfLink;
      if (type.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      if (type.tracksGeneration) {
        const changed = !deepEqual(specPart(next, type.statusSubresource), specPart(old, type.statusSubresource));
        meta.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
      } else delete meta.generation;
      type.prepareUpdate?.(next, old);
      if (old.metadata.deletionTimestamp) {
        const before = new Set(old.metadata.finalizers ?? []);
        const added = (meta.finalizers ?? []).filter((f) => !before.has(f));
        if (added.length > 0) {
          throw invalid(kindName(type), old.metadata.name ?? '', [
            {
              reason: 'FieldValueForbidden',
              field: 'metadata.finalizers',
              message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
            },
          ]);
        }
      }
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    this.#validate(scope, next, old);
    if (deepEqual(withoutRv(next), withoutRv(old))) return { object: this.served(type, scope.version, old), warnings, code: 200 };
    if (scope.dryRun) return { object: this.served(type, scope.version, next), warnings, code: 200 };
    const storageType = this.#storageType(type);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      // The last finalizer is gone: the pending delete completes now.
      const removed = this.#remove(type, next);
      return { object: this.served(type, scope.version, removed), warnings, code: 200 };
    }
    const stored = this.store.put(storageType, next);
    if (storageType === CRDS) this.#registerCrd(stored);
    return { object: this.served(type, scope.version, stored), warnings, code: 200 };
  }

  /**
   * DELETE. Objects with finalizers get a deletionTimestamp (202) and stay until the last
   * finalizer is removed; others go at once. Deleting a namespace deletes what it holds.
   * @throws ApiError 404, 409 on a failed precondition, 403 for the built-in namespaces.
   */
  delete(scope: RequestScope, name: string, options: DeleteOptions): WriteResult {
    const type = scope.type;
    const old = this.get(scope, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(resourceName(type), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(resourceName(type), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const storageType = this.#storageType(type);
    if (storageType === NAMESPACES && PROTECTED_NAMESPACES.has(name)) {
      throw new ApiError(failure(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, group: '', kind: 'namespaces' }));
    }
    if (scope.dryRun) return { object: this.served(type, scope.version, old), warnings: [], code: 200 };
    if (storageType === NAMESPACES) return this.#deleteNamespace(scope, old);
    if ((old.metadata.finalizers ?? []).length > 0) {
      const marked = old.metadata.deletionTimestamp ? old : this.store.put(storageType, this.#markDeleting(type, old));
      return { object: this.served(type, scope.version, marked), warnings: [], code: 202 };
    }
    const removed = this.#remove(type, old);
    return { object: this.served(type, scope.version, removed), warnings: [], code: 200, deleted: !type.custom };
  }

  #markDeleting(type: ResourceType, old: KubeObject): KubeObject {
    const next = cloneObject(old);
    next.metadata.deletionTimestamp = this.#now();
    next.metadata.deletionGracePeriodSeconds = 0;
    if (type.tracksGeneration && (old.metadata.generation ?? 0) > 0) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    return next;
  }

  #remove(type: ResourceType, o: KubeObject): KubeObject {
    const storageType = this.#storageType(type);
    if (storageType === CRDS) this.#dropCrdInstances(o);
    const removed = this.store.remove(storageType, o);
    const ns = o.metadata.namespace;
    if (ns) this.#finishNamespaceIfEmpty(ns);
    return removed;
  }

  #dropCrdInstances(crd: KubeObject): void {
    const spec = crd.spec as unknown as CrdSpec;
    const instances = storageTypeOf(spec.group, spec.names.plural);
    for (const o of this.store.list(instances)) this.store.remove(instances, o);
    this.registry.unregister(spec.group, spec.names.plural);
  }

  #deleteNamespace(scope: RequestScope, ns: KubeObject): WriteResult {
    const name = ns.metadata.name ?? '';
    let current = ns;
    if (!ns.metadata.deletionTimestamp) {
      const next = this.#markDeleting(scope.type, ns);
      next.status = { phase: 'Terminating' };
      current = this.store.put(NAMESPACES, next);
    }
    for (const type of this.registry.all()) {
      if (!type.namespaced) continue;
      const st = this.#storageType(type);
      for (const o of this.store.list(st, name)) {
        if ((o.metadata.finalizers ?? []).length > 0) {
          if (!o.metadata.deletionTimestamp) this.store.put(st, this.#markDeleting(type, o));
        } else this.store.remove(st, o);
      }
    }
    const gone = this.#finishNamespaceIfEmpty(name);
    return { object: this.served(scope.type, scope.version, gone ?? current), warnings: [], code: gone ? 200 : 202, deleted: gone !== undefined };
  }

  /** Removes a terminating namespace once nothing is left in it; returns the removed namespace. */
  #finishNamespaceIfEmpty(name: string): KubeObject | undefined {
    const ns = this.store.get(NAMESPACES, undefined, name);
    if (!ns?.metadata.deletionTimestamp) return undefined;
    for (const type of this.registry.all()) {
      if (type.namespaced && this.store.list(this.#storageType(type), name).length > 0) return undefined;
    }
    return this.store.remove(NAMESPACES, ns);
  }

  /**
   * Creates or updates an object as `kubectl apply` would (used for the CRDs and namespaces
   * present at start). Returns the stored object.
   */
  ensure(scope: RequestScope, object: KubeObject): KubeObject {
    const name = object.metadata.name ?? '';
    const existing = this.store.get(this.#storageType(scope.type), scope.namespace, name);
    if (!existing) return this.create(scope, object).object;
    const next = { ...cloneObject(existing), ...cloneObject(object), metadata: { ...existing.metadata, labels: object.metadata.labels ?? existing.metadata.labels, annotations: object.metadata.annotations ?? existing.metadata.annotations } };
    delete next.metadata.resourceVersion;
    return this.update(scope, name, next).object;
  }
}
