// The operator's own HTTP endpoints: Prometheus metrics from the process's private registry,
// and the liveness/readiness probes. They run on every replica, leader or not.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Probes } from './probes.ts';

export interface Endpoints {
  metrics?: Registry;
  healthz?: Probes;
  readyz?: Probes;
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
