// HTTP handling of resource requests: maps verbs and query parameters (selectors, limit,
// continue, watch, fieldValidation, dryRun, DeleteOptions) onto ResourceStorage, and renders
// results as objects, lists, Tables or PartialObjectMetadata as the client's Accept asks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../base/clock.ts';
import { FIELD_VALIDATION } from './custom-resource-schema.ts';
import type { FieldValidation } from './custom-resource-schema.ts';
import { decodeBody, mediaType, negotiate, readBody, sendJson } from './http-io.ts';
import type { Representation } from './http-io.ts';
import { isObject } from '../base/plain-value.ts';
import type { KubeObject } from './kube-object.ts';
import { fieldValueOf } from './list-page.ts';
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

/** One resource request as the verb handlers read it. */
interface Call {
  ctx: ResourceHandlerContext;
  req: IncomingMessage;
  res: ServerResponse;
  info: ResourceRequest;
  query: URLSearchParams;
  type: ResourceType;
  scope: RequestScope;
  representation: Representation;
  /** The object as the requested version serves it. */
  serve: (o: KubeObject) => KubeObject;
  /** One object as `rep` asks: itself, a Table row or its metadata. */
  renderOne: (o: KubeObject, rep: Representation) => unknown;
}

/** Refuses a request the resource's type cannot take: unknown path, wrong scope, or a verb it does not serve. */
function checkRoute(type: ResourceType | undefined, info: ResourceRequest): ResourceType {
  if (!type) throw notFoundPath();
  if (info.subresource !== undefined && !(info.subresource === 'status' && type.statusSubresource)) throw notFoundPath();
  if (!type.namespaced && info.namespace !== undefined) throw notFoundPath();
  if (type.namespaced && info.namespace === undefined && !['list', 'watch'].includes(info.verb)) throw notFoundPath();
  if (info.subresource === 'status' && !['get', 'update', 'patch'].includes(info.verb)) throw methodNotAllowed();
  if (type.verbs && !type.verbs.includes(info.verb)) throw methodNotAllowed();
  return type;
}

/** Handles one resource request; returns the HTTP code for logging and metrics. */
export async function handleResourceRequest(ctx: ResourceHandlerContext, req: IncomingMessage, res: ServerResponse, info: ResourceRequest, query: URLSearchParams): Promise<number> {
  const type = checkRoute(ctx.storage.registry.lookup(info.group, info.version, info.resource), info);
  const scope: RequestScope = { type, version: info.version, fieldValidation: fieldValidationOf(query), dryRun: dryRunOf(query) };
  if (info.namespace !== undefined) scope.namespace = info.namespace;
  if (info.subresource === 'status') scope.subresource = 'status';
  const renderOne = (o: KubeObject, rep: Representation): unknown => {
    if (rep.as === 'Table') {
      return buildTable(type, [o], { includeObject: includeObjectOf(query), tableVersion: rep.version, now: ctx.clock.now(), listMeta: { resourceVersion: o.metadata.resourceVersion ?? '' } });
    }
    if (rep.as === 'PartialObjectMetadata') return partial(o, rep.version);
    return o;
  };
  const c: Call = { ctx, req, res, info, query, type, scope, representation: negotiate(req.headers.accept), serve: (o) => ctx.storage.served(type, info.version, o), renderOne };
  switch (info.verb) {
    case 'get':
      sendJson(res, 200, renderOne(c.serve(ctx.storage.get(scope, info.name ?? '')), c.representation));
      return 200;
    case 'list':
      return handleList(c);
    case 'watch':
      return handleWatch(c);
    case 'create':
    case 'update':
    case 'patch':
      return handleWrite(c, info.verb);
    case 'delete':
      return handleDelete(c);
    case 'deletecollection':
      return handleDeleteCollection(c);
  }
}

/** The label and field selectors of the query, fields checked against what `type` can select on. */
function selectorsOf(query: URLSearchParams, type: ResourceType): { labels: ReturnType<typeof parseLabelSelector>; fields: FieldRequirement[] } {
  return {
    labels: parseLabelSelector(query.get('labelSelector')),
    fields: parseFieldSelector(query.get('fieldSelector'), new Set(['metadata.name', 'metadata.namespace', ...Object.keys(type.fieldLabels)])),
  };
}

function handleList(c: Call): number {
  const { query, type, representation, res, info } = c;
  const limit = integerParam(query, 'limit');
  const result = c.ctx.storage.list(c.scope, {
    ...selectorsOf(query, type),
    ...(limit === undefined ? {} : { limit }),
    ...(query.get('continue') ? { continueToken: query.get('continue') ?? '' } : {}),
  });
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: result.resourceVersion };
  if (result.continueToken) listMeta.continue = result.continueToken;
  if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
  const items = result.items.map(c.serve);
  if (representation.as === 'Table') {
    sendJson(res, 200, buildTable(type, items, { includeObject: includeObjectOf(query), tableVersion: representation.version, now: c.ctx.clock.now(), listMeta }));
  } else if (representation.as === 'PartialObjectMetadataList' || representation.as === 'PartialObjectMetadata') {
    sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${representation.version}`, metadata: listMeta, items: items.map((o) => partial(o, representation.version)) });
  } else {
    const apiVersion = type.group === '' ? info.version : `${type.group}/${info.version}`;
    sendJson(res, 200, { kind: type.listKind, apiVersion, metadata: listMeta, items: items.map((o) => listItem(type, o)) });
  }
  return 200;
}

function handleWatch(c: Call): number {
  const { query, type, info, ctx, representation } = c;
  const { labels, fields } = selectorsOf(query, type);
  if (info.name !== undefined) fields.push({ field: 'metadata.name', op: 'eq', value: info.name });
  const fieldOf = fieldValueOf(type);
  const requested = integerParam(query, 'timeoutSeconds');
  const timeoutSeconds = requested === undefined || requested === 0 ? ctx.maxWatchSeconds : Math.min(requested, ctx.maxWatchSeconds);
  const rep = representation.as === 'PartialObjectMetadataList' ? { as: 'PartialObjectMetadata' as const, version: representation.version } : representation;
  const watch = startWatch(
    ctx.storage.store,
    c.req,
    c.res,
    {
      type,
      version: info.version,
      ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
      matches: (o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, fieldOf(o)),
      resourceVersion: query.get('resourceVersion'),
      timeoutSeconds,
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      bookmarkIntervalMs: ctx.bookmarkIntervalMs,
      render: (o) => c.renderOne(c.serve(o), rep),
    },
    (w) => ctx.watches.delete(w),
  );
  ctx.watches.add(watch);
  return 200;
}

async function handleWrite(c: Call, verb: 'create' | 'update' | 'patch'): Promise<number> {
  const { req, ctx, scope, info } = c;
  const contentType = verb === 'patch' ? mediaType(req.headers['content-type']) : (req.headers['content-type'] ?? 'application/json');
  const body = decodeBody(await readBody(req), contentType);
  const result =
    verb === 'create'
      ? ctx.storage.create(scope, body)
      : verb === 'update'
        ? ctx.storage.update(scope, info.name ?? '', body)
        : ctx.storage.patch(scope, info.name ?? '', contentType, body);
  sendJson(c.res, result.code, c.renderOne(result.object, c.representation), result.warnings);
  return result.code;
}

async function handleDelete(c: Call): Promise<number> {
  const result = c.ctx.storage.delete(c.scope, c.info.name ?? '', await deleteOptionsOf(c.req, c.query));
  if (result.deleted) {
    const o = result.object;
    sendJson(c.res, 200, success({ name: o.metadata.name ?? '', group: c.type.group, kind: c.type.plural, uid: o.metadata.uid ?? '' }));
    return 200;
  }
  sendJson(c.res, result.code, c.renderOne(result.object, c.representation));
  return result.code;
}

async function handleDeleteCollection(c: Call): Promise<number> {
  const { ctx, scope, type, info } = c;
  const options = await deleteOptionsOf(c.req, c.query);
  const listed = ctx.storage.list(scope, selectorsOf(c.query, type));
  const items = listed.items.map((o) => ctx.storage.delete({ ...scope, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }, o.metadata.name ?? '', options).object);
  const apiVersion = type.group === '' ? info.version : `${type.group}/${info.version}`;
  sendJson(c.res, 200, { kind: type.listKind, apiVersion, metadata: { resourceVersion: String(ctx.storage.store.resourceVersion) }, items: items.map((o) => listItem(type, o)) });
  return 200;
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
