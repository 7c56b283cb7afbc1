// The operator's own HTTP endpoints: Prometheus metrics from the process's private registry,
// and the liveness/readiness probes. They run on every replica, leader or not.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Probes } from './probes.ts';

/** A read-only debug endpoint: returns JSON, or undefined for 404 (e.g. an unknown node). */
export type DebugHandler = (query: URLSearchParams) => unknown;

export interface Endpoints {
  metrics?: Registry;
  healthz?: Probes;
  readyz?: Probes;
  /** Paths under /debug/, e.g. { 'xds/config_dump': ... } serves /debug/xds/config_dump. */
  debug?: Record<string, DebugHandler>;
}

export interface ListeningServer {
  /** The bound port (useful when asked for port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves the given endpoints on host:port; resolves once listening. */
export async function serveEndpoints(host: string, port: number, endpoints: Endpoints): Promise<ListeningServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const respond = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return respond(405, 'text/plain', 'method not allowed\n');
    const probe = url.pathname === '/healthz' ? endpoints.healthz : url.pathname === '/readyz' ? endpoints.readyz : undefined;
    if (probe) {
      void probe.run(url.searchParams.has('verbose')).then(
        (r) => respond(r.ok ? 200 : 503, 'text/plain; charset=utf-8', r.body),
        (e: unknown) => respond(500, 'text/plain', `${String(e)}\n`),
      );
      return;
    }
    if (url.pathname === '/metrics' && endpoints.metrics) {
      const registry = endpoints.metrics;
      void registry.metrics().then(
        (text) => respond(200, registry.contentType, text),
        (e: unknown) => respond(500, 'text/plain', `${String(e)}\n`),
      );
      return;
    }
    const debug = url.pathname.startsWith('/debug/') ? endpoints.debug?.[url.pathname.slice('/debug/'.length)] : undefined;
    if (debug) {
      let body: unknown;
      try {
        body = debug(url.searchParams);
      } catch (e) {
        return respond(400, 'application/json', `${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
      }
      if (body === undefined) return respond(404, 'application/json', `${JSON.stringify({ error: 'not found' })}\n`);
      return respond(200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
    }
    respond(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
