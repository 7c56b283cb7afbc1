// Parses a request path the way kube-apiserver's RequestInfoFactory does: API prefix,
// group, version, namespace, resource, name, subresource, the legacy `/watch/` prefix,
// and the verb (get, list, watch, create, update, patch, delete, deletecollection).

export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
export type Verb = (typeof VERBS)[number];

/** A request for a resource (not discovery or another non-resource path). */
export interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  verb: Verb;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * Resource request info for `/api/v1/...` and `/apis/{group}/{version}/...` paths with at
 * least a resource; undefined for anything else (discovery, health, unknown), and for a
 * method that no verb maps to (the caller answers 405).
 */
export function parseResourceRequest(method: string, pathname: string, query: URLSearchParams): ResourceRequest | 'method-not-allowed' | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decode);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1 && !(rest.length > 2 && NAMESPACE_SUBRESOURCES.has(rest[2] ?? ''))) {
    namespace = rest[1];
    if (rest.length > 2) rest = rest.slice(2);
  }
  const isNamespaceObject = rest[0] === 'namespaces' && namespace !== undefined && rest.length <= 2;
  const resource = rest[0];
  if (!resource || rest.length > 3) return undefined;
  const name = isNamespaceObject ? namespace : rest[1];
  const subresource = rest[2];
  const watchParam = query.get('watch');
  const watching = legacyWatch || watchParam === 'true' || watchParam === '1';
  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watching ? 'watch' : name === undefined ? 'list' : 'get';
      break;
    case 'POST':
      if (name !== undefined) return 'method-not-allowed';
      verb = 'create';
      break;
    case 'PUT':
      if (name === undefined) return 'method-not-allowed';
      verb = 'update';
      break;
    case 'PATCH':
      if (name === undefined) return 'method-not-allowed';
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      return 'method-not-allowed';
  }
  const info: ResourceRequest = { group, version, resource, verb };
  if (isNamespaceObject) {
    if (name !== undefined) info.name = name;
  } else {
    if (namespace !== undefined) info.namespace = namespace;
    if (name !== undefined) info.name = name;
  }
  if (subresource !== undefined) info.subresource = subresource;
  return info;
}
