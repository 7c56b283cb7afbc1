// Reading request bodies (with kube-apiserver's 3 MiB limit) in JSON or YAML, writing JSON
// responses and Status errors, and reading the Accept header's Table and
// PartialObjectMetadata requests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { plainValueProblem } from '../base/plain-value.ts';
import { badRequest, tooLarge } from './status.ts';
import type { KubeStatus } from './status.ts';

/** kube-apiserver's limit on request bodies. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** etcd's default limit on one request, which bounds what a stored object may be. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** How deep a body (or a patched object) may nest: deeper values would overflow the validators' recursion. */
export const MAX_BODY_NESTING = 1000;

/**
 * Reads the whole body.
 * @throws ApiError 413 past `limit` (checked against Content-Length first, then as bytes arrive).
 */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** The media type of a Content-Type header, without parameters, lower-cased. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Decodes a body as JSON, or YAML when the content type says so.
 * @throws ApiError 400 with the parser's message.
 */
export function decodeBody(body: Buffer, contentType: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  const type = mediaType(contentType);
  let value: unknown;
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml') {
    try {
      value = parseYaml(text);
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  } else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  const shape = plainValueProblem(value, MAX_BODY_NESTING);
  if (shape) throw badRequest(`request body: ${shape}`);
  return value;
}

/** Writes a JSON response. `warnings` become `Warning: 299 - "..."` headers. */
export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const data = Buffer.from(JSON.stringify(body), 'utf8');
  const headers: Record<string, string | string[] | number> = { 'Content-Type': 'application/json', 'Content-Length': data.length, 'Cache-Control': 'no-cache, private' };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - "${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  res.writeHead(code, headers);
  res.end(data);
}

/** Writes a Status; when a stream (a watch) already started, the connection is cut instead. */
export function sendStatus(res: ServerResponse, status: KubeStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status);
}

/** What representation the client asked for in Accept. */
export type Representation = { as: 'object' } | { as: 'Table'; version: string } | { as: 'PartialObjectMetadata' | 'PartialObjectMetadataList'; version: string };

/**
 * The first acceptable representation in Accept: a meta.k8s.io Table or
 * PartialObjectMetadata(List) when listed before plain JSON, else the object itself.
 */
export function negotiate(accept: string | undefined): Representation {
  for (const clause of (accept ?? '').split(',')) {
    const [type, ...params] = clause.split(';').map((p) => p.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((y) => y.trim()) as [string, string]));
    if (p.as && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1') && (type === 'application/json' || type === '*/*')) {
      if (p.as === 'Table') return { as: 'Table', version: p.v };
      if (p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') return { as: p.as, version: p.v };
    }
    if (!p.as && (type === 'application/json' || type === '*/*' || type === 'application/yaml')) return { as: 'object' };
  }
  return { as: 'object' };
}
