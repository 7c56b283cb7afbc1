// A TCP listener that terminates TLS under a profile and hands each secured connection to
// the channel that owns it (an HTTP/2 server, a gRPC server's connection injector). Owning
// the TLS server, rather than letting gRPC or HTTP/2 create one, is what lets a channel
// count every handshake by its group, log the peer a pq-only server refuses, and swap its
// certificates when kubelet swaps the Secret's files: setSecureContext gives new
// handshakes the new credentials while established connections keep theirs.
import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';
import { CredentialReloader } from './credential-reloader.ts';
import type { CredentialFiles, Credentials, FieldNames } from './credentials.ts';
import { countHandshakes, HandshakeMetrics } from './handshakes.ts';
import { profileOptions, type TlsProfile } from './profiles.ts';

export interface TlsListenerOptions {
  /** Names the channel in metrics and logs ("xds", "apiserver"). */
  channel: string;
  profile: TlsProfile;
  /** With `caFile`, peers must present a certificate it signed (mTLS). */
  files: CredentialFiles;
  /** How the files are named in error messages: "xds.tls" (xds.tls.certFile, …)... */
  prefix: string;
  /** ...or each by its own name (a flag). */
  fieldNames?: FieldNames;
  host: string;
  port: number;
  /** ALPN protocols offered ("h2" for gRPC). */
  alpn?: string[];
  /** Receives each connection once its handshake completed. */
  onConnection: (socket: TLSSocket) => void;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** A handshake not finished by then is dropped (default 10 s). */
  handshakeTimeoutMs?: number;
}

function contextOptions(credentials: Credentials, profile: TlsProfile, mutual: boolean): TlsOptions {
  return {
    cert: credentials.cert,
    key: credentials.key,
    ...(credentials.ca ? { ca: credentials.ca } : {}),
    ...profileOptions(profile),
    requestCert: mutual,
    rejectUnauthorized: mutual,
  };
}

export class TlsListener {
  readonly port: number;
  readonly #server: Server;
  readonly #reloader: CredentialReloader;

  private constructor(server: Server, reloader: CredentialReloader, port: number) {
    this.#server = server;
    this.#reloader = reloader;
    this.port = port;
  }

  /**
   * Loads the credentials (ConfigError naming the file when they are unusable) and listens.
   * Rejects with LISTEN_FAILED when the address cannot be bound.
   */
  static async start(options: TlsListenerOptions): Promise<TlsListener> {
    const mutual = options.files.caFile !== undefined;
    const handshakes = new HandshakeMetrics(options.channel, options.registry, options.logger);
    // The reloader loads the first credentials (and refuses bad ones) before the server exists.
    const holder: { server?: Server } = {};
    const reloader = CredentialReloader.start({
      channel: options.channel,
      files: options.files,
      prefix: options.prefix,
      ...(options.fieldNames ? { fieldNames: options.fieldNames } : {}),
      clock: options.clock,
      logger: options.logger,
      registry: options.registry,
      onReload: (c) => holder.server?.setSecureContext(contextOptions(c, options.profile, mutual)),
    });
    const server = createServer({
      ...contextOptions(reloader.current, options.profile, mutual),
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    });
    countHandshakes(server, handshakes);
    server.on('secureConnection', (socket: TLSSocket) => options.onConnection(socket));
    holder.server = server;
    const listening = server;
    const address = `${options.host}:${options.port}`;
    const port = await new Promise<number>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port, options.host, () => {
        listening.off('error', reject);
        resolve((listening.address() as { port: number }).port);
      });
    }).catch((e: unknown) => {
      reloader.close();
      throw new MeshpilotError(ERROR_CODES.LISTEN_FAILED, `${options.channel} TLS listener cannot listen on ${address}: ${(e as Error).message}`, { cause: e });
    });
    return new TlsListener(listening, reloader, port);
  }

  /** The credentials served now (the last good ones after a failed reload). */
  get credentials(): Credentials {
    return this.#reloader.current;
  }

  /** Re-reads the files at once (the watch does this by itself); true when new credentials are served. */
  reload(): boolean {
    return this.#reloader.reload();
  }

  /** Stops accepting connections at once; the owner closes the ones it took. */
  close(): void {
    this.#reloader.close();
    this.#server.close();
  }
}
