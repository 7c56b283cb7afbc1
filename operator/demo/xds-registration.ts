// The demo's proxyless gRPC client reads its xDS bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG, and
// grpc-js-xds reads that once per process and keeps it. So the demo registers once, for one
// xDS server address, and refuses to be pointed elsewhere later in the same process rather
// than silently talking to the old server. This module-level state mirrors that
// process-wide state of the library; it is not a cache of our own.
import * as grpcXds from '@grpc/grpc-js-xds';
import { ConfigError } from '../base/errors.ts';
import { processEnvironment, setGrpcXdsBootstrapConfig } from '../process/config.ts';

let registeredBootstrap: string | undefined;

/** The node id the demo's client presents to the xDS server. */
export function demoNodeId(): string {
  return `meshpilot-demo-${process.pid}`;
}

/** The bootstrap that points grpc-js-xds at 127.0.0.1:`xdsPort`, insecure, xDS v3. */
export function demoBootstrap(xdsPort: number): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: demoNodeId(), locality: {} },
  });
}

/**
 * Makes `xds:///` targets in this process resolve through the xDS server on 127.0.0.1:`xdsPort`.
 * Idempotent for the same port. Throws ConfigError when the process was already registered
 * for another port, or when GRPC_XDS_BOOTSTRAP names a bootstrap file (grpc-js-xds would read
 * that file instead).
 */
export function registerDemoXdsClient(xdsPort: number): void {
  const bootstrap = demoBootstrap(xdsPort);
  if (registeredBootstrap === bootstrap) return;
  if (registeredBootstrap !== undefined) {
    throw new ConfigError(
      `demo mesh: this process's xDS client already talks to ${JSON.parse(registeredBootstrap).xds_servers[0].server_uri}; ` +
        'grpc-js-xds reads its bootstrap once per process, so a demo for another xDS port needs a new process',
    );
  }
  const bootstrapFile = processEnvironment().GRPC_XDS_BOOTSTRAP;
  if (bootstrapFile) {
    throw new ConfigError(
      `demo mesh: GRPC_XDS_BOOTSTRAP is set (${bootstrapFile}) and grpc-js-xds would read that file instead of pointing the demo at this operator; unset it`,
    );
  }
  setGrpcXdsBootstrapConfig(bootstrap);
  grpcXds.register();
  registeredBootstrap = bootstrap;
}
