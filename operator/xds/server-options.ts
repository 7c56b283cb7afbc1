// How an XdsServer is configured: where it listens, how it debounces, the limits it puts on
// each stream, and whether it holds answers until its snapshot is loaded.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import type { EndpointResolver } from './endpoints.ts';
import type { CredentialFiles, FieldNames } from '../tls/credentials.ts';
import type { TlsProfile } from '../tls/profiles.ts';
import type { StreamLimits } from './stream-host.ts';

export interface XdsTlsOptions {
  profile: TlsProfile;
  /** With `caFile`, clients must present a certificate it signed, and are what it says (mTLS). */
  files: CredentialFiles;
  /** How the files are named in error messages (default "xds.tls.certFile", …). */
  fieldNames?: FieldNames;
}

export interface XdsServerOptions {
  logger: Logger;
  registry: Registry;
  resolver: EndpointResolver;
  clock?: Clock;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port; read it back from `port`). */
  port?: number;
  /** Bursts of publishes within this window become one snapshot (default 10 ms). */
  debounceMs?: number;
  /** The port of Envoy's HTTP listener (default 10000). */
  envoyListenerPort?: number;
  /** TLS (mTLS with a client CA) on host:port under a profile; absent: host:port is plaintext. */
  tls?: XdsTlsOptions;
  /** A separate plaintext address beside the TLS one, for clients that cannot do TLS to a control plane. */
  plaintext?: { host: string; port: number };
  /** Larger requests are refused (default 4 MiB). */
  maxRequestBytes?: number;
  /** Per-stream token bucket: burst (default 1000 requests)... */
  requestBurst?: number;
  /** ...and refill rate (default 200 requests per second). */
  requestsPerSecond?: number;
  /** Longest an Envoy route table is held back waiting for its new clusters to be sent (default 2000 ms). */
  holdRoutesMs?: number;
  /**
   * Answer nothing until markLoaded() (default false: answer at once). A server that starts
   * with an empty snapshot and answers at once tells a reconnecting proxy that its listeners
   * and clusters do not exist; a proxyless gRPC client then drops them (and cancels the watches
   * that hang off them) before the real configuration arrives. Requests are taken and
   * subscriptions kept meanwhile; markLoaded() answers every one.
   */
  holdUntilLoaded?: boolean;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  debounceMs: 10,
  envoyListenerPort: 10000,
  maxRequestBytes: 4 * 1024 * 1024,
  requestBurst: 1000,
  requestsPerSecond: 200,
  holdRoutesMs: 2000,
} as const;

/** `host:port` as gRPC binds it (an IPv6 host in brackets). */
export function bindAddress(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** The per-stream limits of `options`, defaults filled in. */
export function streamLimits(options: XdsServerOptions): StreamLimits {
  return {
    requestBurst: options.requestBurst ?? SERVER_DEFAULTS.requestBurst,
    requestsPerSecond: options.requestsPerSecond ?? SERVER_DEFAULTS.requestsPerSecond,
    holdRoutesMs: options.holdRoutesMs ?? SERVER_DEFAULTS.holdRoutesMs,
  };
}
