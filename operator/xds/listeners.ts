// Where the xDS server accepts connections: its main address, which speaks TLS (mTLS when a
// client CA is given) under a profile when TLS is configured, and an optional separate
// plaintext address for clients that cannot speak TLS to a control plane (@grpc/grpc-js-xds
// 1.14 takes only `insecure` and `google_default` channel credentials). The server owns its
// TLS sockets and injects them into gRPC, so that the TLS listener sees (and counts) every
// handshake (tls/tls-listener.ts). Plaintext addresses are gRPC's own listeners: a plaintext
// TCP socket injected into gRPC's HTTP/2 server and reset by its peer left Node 24 unable to
// exit (its handle never finished closing), which gRPC's own listener does not.
import type { TLSSocket } from 'node:tls';
import { Server, ServerCredentials, type ConnectionInjector } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';
import { counter } from '../base/metrics.ts';
import { TlsListener } from '../tls/tls-listener.ts';
import { tlsMetrics } from '../tls/metrics.ts';
import { bindAddress, type XdsTlsOptions } from './server-options.ts';


export interface XdsListenerOptions {
  host: string;
  port: number;
  /** TLS on host:port; absent: host:port is plaintext. */
  tls?: XdsTlsOptions;
  /** A separate plaintext address, beside a TLS one. */
  plaintext?: { host: string; port: number };
  logger: Logger;
  registry: Registry;
  clock: Clock;
}

/** A listener that could not bind, and which: the main address (TLS when configured) or the separate plaintext one. */
export class ListenerBindError extends MeshpilotError {
  readonly listener: 'main' | 'plaintext';

  constructor(listener: 'main' | 'plaintext', message: string, cause: unknown) {
    super(ERROR_CODES.LISTEN_FAILED, message, { cause });
    this.listener = listener;
  }
}

async function listenPlain(grpc: Server, host: string, port: number, listener: 'main' | 'plaintext'): Promise<number> {
  const address = bindAddress(host, port);
  return new Promise<number>((resolve, reject) => {
    grpc.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  }).catch((e: unknown) => {
    throw new ListenerBindError(listener, `xDS server cannot listen on ${address}: ${(e as Error).message}`, e);
  });
}

/** The gRPC server the listeners feed. */
export function grpcServer(maxRequestBytes: number): Server {
  return new Server({
    // Requests up to 4x the limit reach us and are refused with a log line and a metric;
    // anything larger is cut off by gRPC before it is buffered.
    'grpc.max_receive_message_length': maxRequestBytes * 4,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
}

export class XdsListeners {
  /** The main address's port (TLS when configured). */
  readonly port: number;
  /** The separate plaintext address's port, when there is one. */
  readonly plaintextPort: number | undefined;
  /** The main address's TLS listener, when it speaks TLS. */
  readonly tls: TlsListener | undefined;
  readonly #injector: ConnectionInjector;
  readonly #open: Set<TLSSocket>;
  readonly #options: XdsListenerOptions;

  private constructor(
    options: XdsListenerOptions,
    fields: { port: number; plaintextPort: number | undefined; tls: TlsListener | undefined; injector: ConnectionInjector; open: Set<TLSSocket> },
  ) {
    this.#options = options;
    this.#open = fields.open;
    this.port = fields.port;
    this.plaintextPort = fields.plaintextPort;
    this.tls = fields.tls;
    this.#injector = fields.injector;
  }

  /** Listens on every configured address; on a failure rejects (the caller shuts `grpc` down). */
  static async start(grpc: Server, options: XdsListenerOptions): Promise<XdsListeners> {
    tlsMetrics(options.registry); // declared even when this server speaks no TLS (see tls/metrics.ts)
    const connections = counter(options.registry, {
      name: 'meshpilot_xds_tls_connections_total',
      help: 'Connections the xDS server accepted on its TLS address (counted once their handshake completed); plaintext ones are counted as streams, meshpilot_xds_streams_total{transport="plaintext"}',
      labelNames: [],
    });
    // TLS is already terminated when a socket reaches gRPC: the injector speaks plain HTTP/2.
    const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
    const open = new Set<TLSSocket>();
    const inject = (socket: TLSSocket): void => {
      connections.inc();
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      injector.injectConnection(socket);
    };
    let tls: TlsListener | undefined;
    try {
      let port: number;
      if (options.tls) {
        tls = await TlsListener.start({
          channel: 'xds',
          profile: options.tls.profile,
          files: options.tls.files,
          prefix: 'xds.tls',
          ...(options.tls.fieldNames ? { fieldNames: options.tls.fieldNames } : {}),
          host: options.host,
          port: options.port,
          alpn: ['h2'],
          onConnection: inject,
          clock: options.clock,
          logger: options.logger,
          registry: options.registry,
        });
        port = tls.port;
      } else {
        port = await listenPlain(grpc, options.host, options.port, 'main');
      }
      const plaintextPort = options.plaintext ? await listenPlain(grpc, options.plaintext.host, options.plaintext.port, 'plaintext') : undefined;
      return new XdsListeners(options, { port, plaintextPort, tls, injector, open });
    } catch (e) {
      tls?.close();
      injector.destroy();
      throw e;
    }
  }

  /** Says where the server listens, and warns of a plaintext address. */
  announce(log: Logger, version: string): void {
    const o = this.#options;
    const tls = o.tls ? { profile: o.tls.profile, mutual: o.tls.files.caFile !== undefined } : false;
    log.info({ address: bindAddress(o.host, this.port), tls, version }, 'xDS server listening');
    const plaintext = o.tls ? (o.plaintext ? bindAddress(o.plaintext.host, this.plaintextPort!) : undefined) : bindAddress(o.host, this.port);
    if (plaintext) {
      log.warn(
        { address: plaintext },
        'xDS server listening in PLAINTEXT: its clients are unauthenticated, see every route, and their configuration crosses the network in the clear; use it only for clients that cannot speak TLS to a control plane',
      );
    }
  }

  /** Stops accepting TLS connections, at once (gRPC's shutdown closes its plaintext listeners). */
  stopAccepting(): void {
    this.tls?.close();
  }

  /**
   * Destroys every connection still open: after the gRPC server's shutdown has said goodbye
   * (GOAWAY) to each, a socket the peer never closed would otherwise keep the process alive.
   */
  destroyConnections(): void {
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
    this.#injector.destroy();
  }
}
