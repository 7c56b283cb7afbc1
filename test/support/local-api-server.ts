// Harness for tests of the embedded local API server (operator/local): starts it on a temp
// state directory with the repository's CRDs, gives typed clients from
// @kubernetes/client-node built from the kubeconfig it wrote, and a raw HTTPS request helper
// for what the typed clients cannot express. Also `patchOptions`, the way to choose a PATCH
// content type with client-node 2.x.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { LocalApiServer } from '../../operator/local/server.ts';
import type { LocalApiServerOptions } from '../../operator/local/server.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CRD_DIR = join(REPO_ROOT, 'crds');
export const GROUP = 'traffic.meshpilot.io';
export const VERSION = 'v1alpha1';

/**
 * Request options that make a client-node 2.x `patch*` call send the given Content-Type.
 * The generated APIs default to application/json-patch+json; the Content-Type header is
 * replaced by a middleware, so pass the result as the last argument of the call:
 * `custom.patchNamespacedCustomObject({ ..., body }, patchOptions('merge'))`.
 */
export function patchOptions(type: 'merge' | 'json' | 'strategic', options?: ConfigurationOptions): ConfigurationOptions {
  const contentType = { merge: PatchStrategy.MergePatch, json: PatchStrategy.JsonPatch, strategic: PatchStrategy.StrategicMergePatch }[type];
  return setHeaderOptions('Content-Type', contentType, options);
}

/** The printer column names crds/adaptiveroute.yaml declares (tests follow the CRD, whatever it says). */
export function adaptiveRouteColumns(): string[] {
  const crd = parseYaml(readFileSync(join(CRD_DIR, 'adaptiveroute.yaml'), 'utf8')) as { spec: { versions: { additionalPrinterColumns?: { name: string; priority?: number }[] }[] } };
  return (crd.spec.versions[0]?.additionalPrinterColumns ?? []).filter((c) => !c.priority).map((c) => c.name);
}

/** A running server and clients for it. */
export interface LocalHarness {
  server: LocalApiServer;
  stateDir: string;
  kubeConfig: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  apiext: ApiextensionsV1Api;
  /** Closes the server (if still running) and removes the state directory. */
  dispose(): Promise<void>;
}

/** A temporary state directory, removed by the caller. */
export function tempStateDir(prefix = 'local-api'): Promise<string> {
  return mkdtemp(join(tmpdir(), `meshpilot-${prefix}-`));
}

/** Clients for a kubeconfig file. */
export function clientsFor(kubeconfigPath: string): Pick<LocalHarness, 'kubeConfig' | 'custom' | 'core' | 'coordination' | 'apiext'> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    kubeConfig,
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    apiext: kubeConfig.makeApiClient(ApiextensionsV1Api),
  };
}

/** Starts a server on a fresh (or the given) state directory with the repository's CRDs. */
export async function startLocal(options: Partial<LocalApiServerOptions> = {}): Promise<LocalHarness> {
  const stateDir = options.stateDir ?? (await tempStateDir());
  const server = await LocalApiServer.start({ crdDir: CRD_DIR, ...options, stateDir });
  return {
    server,
    stateDir,
    ...clientsFor(server.kubeconfigPath),
    async dispose() {
      await server.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The Status (or other JSON body) and code of a failed client-node call. */
export function apiError(e: unknown): { code: number; body: Record<string, unknown> } {
  const err = e as { code?: number; body?: unknown };
  if (typeof err.code !== 'number') throw e;
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Record<string, unknown>) : ((err.body ?? {}) as Record<string, unknown>);
  return { code: err.code, body };
}

/** Awaits a call that must fail, and returns its Status. */
export async function expectApiError(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (e) {
    return apiError(e);
  }
  throw new Error('expected the API call to fail');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): Record<string, unknown>;
}

/** A raw HTTPS request to the server (token and CA from the server unless overridden). */
export function raw(
  server: LocalApiServer,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; token?: string | null } = {},
): Promise<RawResponse> {
  const url = new URL(path, server.url);
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? server.token : options.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method, headers, ca: server.caCert }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** An AdaptiveRoute manifest with sensible values; `spec` is merged over the defaults. */
export function adaptiveRoute(name: string, namespace = 'default', spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'AdaptiveRoute',
    metadata: { name, namespace, ...metadata },
    spec: {
      host: `${name}.shop.svc.cluster.local`,
      destinations: [
        { region: 'eu-west', service: `${name}.shop-eu-west.svc.cluster.local`, weight: 60 },
        { region: 'us-east', service: `${name}.shop-us-east.svc.cluster.local`, weight: 40 },
      ],
      ...spec,
    },
  };
}

/** Arguments for CustomObjectsApi calls on AdaptiveRoutes. */
export function routeRef(namespace: string, name?: string): { group: string; version: string; plural: string; namespace: string; name: string } {
  return { group: GROUP, version: VERSION, plural: 'adaptiveroutes', namespace, name: name ?? '' };
}
