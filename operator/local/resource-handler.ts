// HTTP handling of resource requests: maps verbs and query parameters (selectors, limit,
// continue, watch, fieldValidation, dryRun, DeleteOptions) onto ResourceStorage, and renders
// results as objects, lists, Tables or PartialObjectMetadata as the client's Accept asks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../base/clock.ts';
import { FIELD_VALIDATION } from './custom-resource-schema.ts';
import type { FieldValidation } from './custom-resource-schema.ts';
import { decodeBody, mediaType, negotiate, readBody, sendJson } from './http-io.ts';
import type { Representation } from './http-io.ts';
import { isObject } from './json-util.ts';
import type { KubeObject } from './kube-object.ts';
import type { ResourceType } from './resource-registry.ts';
import type { ResourceRequest } from './request-info.ts';
import type { ResourceStorage } from './resource-storage.ts';
import type { DeleteOptions, RequestScope } from './storage-requests.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { FieldRequirement } from './selectors.ts';
import { badRequest, methodNotAllowed, notFoundPath, success } from './status.ts';
import { INCLUDE_OBJECT, buildTable } from './table.ts';
import type { IncludeObject } from './table.ts';
import type { ActiveWatch } from './watch-stream.ts';
import { startWatch } from './watch-stream.ts';

export interface ResourceHandlerContext {
  storage: ResourceStorage;
  clock: Clock;
  watches: Set<ActiveWatch>;
  bookmarkIntervalMs: number;
  /** Upper bound (and default) for watch timeoutSeconds. */
  maxWatchSeconds: number;
}

function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if ((FIELD_VALIDATION as readonly string[]).includes(v)) return v as FieldValidation;
  throw badRequest(`fieldValidation parameter unsupported: ${v}; expected one of Strict, Warn, Ignore`);
}

function dryRunOf(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function integerParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`invalid ${name}: ${v}`);
  return Number(v);
}

function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject') ?? 'Metadata';
  if (!(INCLUDE_OBJECT as readonly string[]).includes(v)) throw badRequest(`includeObject must be one of None, Metadata, Object; got ${v}`);
  return v as IncludeObject;
}

/** Typed (built-in) list items carry no apiVersion/kind on a real server; custom resource items do. */
function listItem(type: ResourceType, o: KubeObject): KubeObject {
  if (type.custom) return o;
  const rest = { ...o };
  delete rest.apiVersion;
  delete rest.kind;
  return rest;
}

function partial(o: KubeObject, version: string): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o.metadata };
}

/** Handles one resource request; returns the HTTP code for logging and metrics. */
export async function handleResourceRequest(ctx: ResourceHandlerContext, req: IncomingMessage, res: ServerResponse, info: ResourceRequest, query: URLSearchParams): Promise<number> {
  const type = ctx.storage.registry.lookup(info.group, info.version, info.resource);
  if (!type) throw notFoundPath();
  if (info.subresource !== undefined && !(info.subresource === 'status' && type.statusSubresource)) throw notFoundPath();
  if (!type.namespaced && info.namespace !== undefined) throw notFoundPath();
  if (type.namespaced && info.namespace === undefined && !['list', 'watch'].includes(info.verb)) throw notFoundPath();
  if (info.subresource === 'status' && !['get', 'update', 'patch'].includes(info.verb)) throw methodNotAllowed();
  if (type.verbs && !type.verbs.includes(info.verb)) throw methodNotAllowed();

  const scope: RequestScope = {
    type,
    version: info.version,
    fieldValidation: fieldValidationOf(query),
    dryRun: dryRunOf(query),
  };
  if (info.namespace !== undefined) scope.namespace = info.namespace;
  if (info.subresource === 'status') scope.subresource = 'status';
  const storage = ctx.storage;
  const representation = negotiate(req.headers.accept);
  const serve = (o: KubeObject) => storage.served(type, info.version, o);

  const renderOne = (o: KubeObject, rep: Representation): unknown => {
    if (rep.as === 'Table') {
      return buildTable(type, [o], { includeObject: includeObjectOf(query), tableVersion: rep.version, now: ctx.clock.now(), listMeta: { resourceVersion: o.metadata.resourceVersion ?? '' } });
    }
    if (rep.as === 'PartialObjectMetadata') return partial(o, rep.version);
    return o;
  };

  switch (info.verb) {
    case 'get': {
      sendJson(res, 200, renderOne(serve(storage.get(scope, info.name ?? '')), representation));
      return 200;
    }
    case 'list': {
      const result = storage.list(scope, {
        labels: parseLabelSelector(query.get('labelSelector')),
        fields: parseFieldSelector(query.get('fieldSelector'), new Set(['metadata.name', 'metadata.namespace', ...Object.keys(type.fieldLabels)])),
        ...(integerParam(query, 'limit') === undefined ? {} : { limit: integerParam(query, 'limit') }),
        ...(query.get('continue') ? { continueToken: query.get('continue') ?? '' } : {}),
      });
      const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
      if (result.continueToken) listMeta.continue = result.continueToken;
      if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
      const items = result.items.map(serve);
      if (representation.as === 'Table') {
        sendJson(res, 200, buildTable(type, items, { includeObject: includeObjectOf(query), tableVersion: representation.version, now: ctx.clock.now(), listMeta }));
      } else if (representation.as === 'PartialObjectMetadataList' || representation.as === 'PartialObjectMetadata') {
        sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${representation.version}`, metadata: listMeta, items: items.map((o) => partial(o, representation.version)) });
      } else {
        const apiVersion = type.group === '' ? info.version : `${type.group}/${info.version}`;
        sendJson(res, 200, { kind: type.listKind, apiVersion, metadata: listMeta, items: items.map((o) => listItem(type, o)) });
      }
      return 200;
    }
    case 'watch': {
      const labels = parseLabelSelector(query.get('labelSelector'));
      const fields: FieldRequirement[] = parseFieldSelector(query.get('fieldSelector'), new Set(['metadata.name', 'metadata.namespace', ...Object.keys(type.fieldLabels)]));
      if (info.name !== undefined) fields.push({ field: 'metadata.name', op: 'eq', value: info.name });
      const fieldOf = (o: KubeObject) => (f: string) =>
        f === 'metadata.name' ? (o.metadata.name ?? '') : f === 'metadata.namespace' ? (o.metadata.namespace ?? '') : (type.fieldLabels[f]?.(o) ?? '');
      const requested = integerParam(query, 'timeoutSeconds');
      const timeoutSeconds = requested === undefined || requested === 0 ? ctx.maxWatchSeconds : Math.min(requested, ctx.maxWatchSeconds);
      const rep = representation.as === 'PartialObjectMetadataList' ? { as: 'PartialObjectMetadata' as const, version: representation.version } : representation;
      const watch = startWatch(
        storage.store,
        req,
        res,
        {
          type,
          version: info.version,
          ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
          matches: (o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, fieldOf(o)),
          resourceVersion: query.get('resourceVersion'),
          timeoutSeconds,
          bookmarks: query.get('allowWatchBookmarks') === 'true',
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
          render: (o) => renderOne(serve(o), rep),
        },
        (w) => ctx.watches.delete(w),
      );
      ctx.watches.add(watch);
      return 200;
    }
    case 'create': {
      const body = decodeBody(await readBody(req), req.headers['content-type'] ?? 'application/json');
      const result = storage.create(scope, body);
      sendJson(res, result.code, renderOne(result.object, representation), result.warnings);
      return result.code;
    }
    case 'update': {
      const body = decodeBody(await readBody(req), req.headers['content-type'] ?? 'application/json');
      const result = storage.update(scope, info.name ?? '', body);
      sendJson(res, result.code, renderOne(result.object, representation), result.warnings);
      return result.code;
    }
    case 'patch': {
      const contentType = mediaType(req.headers['content-type']);
      const body = decodeBody(await readBody(req), contentType);
      const result = storage.patch(scope, info.name ?? '', contentType, body);
      sendJson(res, result.code, renderOne(result.object, representation), result.warnings);
      return result.code;
    }
    case 'delete': {
      const options = await deleteOptionsOf(req, query);
      const result = storage.delete(scope, info.name ?? '', options);
      if (result.deleted) {
        const o = result.object;
        sendJson(res, 200, success({ name: o.metadata.name ?? '', group: type.group, kind: type.plural, uid: o.metadata.uid ?? '' }));
        return 200;
      }
      sendJson(res, result.code, renderOne(result.object, representation));
      return result.code;
    }
    case 'deletecollection': {
      const options = await deleteOptionsOf(req, query);
      const listed = storage.list(scope, {
        labels: parseLabelSelector(query.get('labelSelector')),
        fields: parseFieldSelector(query.get('fieldSelector'), new Set(['metadata.name', 'metadata.namespace', ...Object.keys(type.fieldLabels)])),
      });
      const items = listed.items.map((o) => storage.delete({ ...scope, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }, o.metadata.name ?? '', options).object);
      const apiVersion = type.group === '' ? info.version : `${type.group}/${info.version}`;
      sendJson(res, 200, { kind: type.listKind, apiVersion, metadata: { resourceVersion: String(storage.store.resourceVersion) }, items: items.map((o) => listItem(type, o)) });
      return 200;
    }
  }
}

async function deleteOptionsOf(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const raw = await readBody(req);
  const options: DeleteOptions = {};
  if (raw.length > 0 && raw.toString('utf8').trim() !== '') {
    const body = decodeBody(raw, req.headers['content-type'] ?? 'application/json');
    if (!isObject(body)) throw badRequest('DeleteOptions must be a JSON object');
    if (isObject(body.preconditions)) {
      const pre: { uid?: string; resourceVersion?: string } = {};
      if (typeof body.preconditions.uid === 'string') pre.uid = body.preconditions.uid;
      if (typeof body.preconditions.resourceVersion === 'string') pre.resourceVersion = body.preconditions.resourceVersion;
      options.preconditions = pre;
    }
    if (typeof body.propagationPolicy === 'string') options.propagationPolicy = body.propagationPolicy;
  }
  const policy = query.get('propagationPolicy');
  if (policy) options.propagationPolicy = policy;
  if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw badRequest(`propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return options;
}
