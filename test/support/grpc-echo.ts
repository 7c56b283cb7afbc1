// The echo service of the xDS integration tests (protos/echo.proto), loaded with
// proto-loader: its types, and the client and service definitions that both the test
// backends and the xDS client child process use.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const ECHO_PROTO = fileURLToPath(new URL('./protos/echo.proto', import.meta.url));

export interface EchoRequest {
  message: string;
}

export interface EchoReply {
  message: string;
  region: string;
  backend: string;
}

export type EchoClient = grpc.Client & {
  Echo(
    request: EchoRequest,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
};

export interface EchoDefinition {
  client: new (target: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;
  service: grpc.ServiceDefinition;
}

/** Loads the proto; cheap, but callers that need it often should keep the result. */
export function loadEcho(): EchoDefinition {
  const definition = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    meshpilot: { test: { echo: { Echo: grpc.ServiceClientConstructor } } };
  };
  const ctor = loaded.meshpilot.test.echo.Echo;
  return { client: ctor as unknown as EchoDefinition['client'], service: ctor.service };
}
