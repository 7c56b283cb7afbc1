// Every TLS handshake a channel's server completes or refuses, counted by the key-exchange
// group it negotiated, so that an operator can show in Grafana that no classical handshake
// happened on a channel that must be post-quantum. OpenSSL tells a server its group only
// inside the session it hands back (Node's getEphemeralKeyInfo() is empty on a server
// socket): the group is read from the session's DER, where OpenSSL 3 keeps it (kex_group,
// field [19] of SSL_SESSION_ASN1) for resumption.
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { tlsMetrics } from './metrics.ts';
import { derChildren, derUnsigned } from './der.ts';

/** IANA TLS Supported Groups this build can negotiate, by code point. */
const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0017, 'secp256r1'],
  [0x0018, 'secp384r1'],
  [0x0019, 'secp521r1'],
  [0x001d, 'X25519'],
  [0x001e, 'X448'],
  [0x0200, 'MLKEM512'],
  [0x0201, 'MLKEM768'],
  [0x0202, 'MLKEM1024'],
  [0x11eb, 'SecP256r1MLKEM768'],
  [0x11ec, 'X25519MLKEM768'],
  [0x11ed, 'SecP384r1MLKEM1024'],
]);

const KEX_GROUP_TAG = 0xa0 | 19; // [19] EXPLICIT, constructed

/** The name of the group a server-side session negotiated ("unknown" when the session does not say). */
function negotiatedGroup(socket: TLSSocket): string {
  const session = socket.getSession();
  if (!session) return 'unknown';
  const [outer] = derChildren(session) ?? [];
  const field = outer ? derChildren(session, outer.start, outer.end)?.find((e) => e.tag === KEX_GROUP_TAG) : undefined;
  const [value] = field ? (derChildren(session, field.start, field.end) ?? []) : [];
  if (!value || value.tag !== 0x02) return 'unknown';
  const id = derUnsigned(session, value);
  return GROUP_NAMES.get(id) ?? `0x${id.toString(16).padStart(4, '0')}`;
}

/** Why a handshake failed, as a bounded label. */
function refusalReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (/NO_SUITABLE_KEY_SHARE|NO_SHARED_GROUP|NO_SUITABLE_GROUPS|HANDSHAKE_FAILURE/.test(code)) return 'no_shared_group';
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION/.test(code)) return 'protocol_version';
  if (/CERTIFICATE|UNKNOWN_CA|PEER_DID_NOT_RETURN/.test(code)) return 'bad_certificate';
  if (code === 'ECONNRESET' || /socket hang up|disconnected/i.test(err.message)) return 'aborted';
  if (/timed? ?out/i.test(err.message) || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  return 'failed';
}

export class HandshakeMetrics {
  readonly #total;
  readonly #channel: string;
  readonly #log: Logger;

  constructor(channel: string, registry: Registry, logger: Logger) {
    this.#channel = channel;
    this.#log = logger;
    this.#total = tlsMetrics(registry).handshakes;
  }

  /** Counts a completed handshake; returns its group. */
  completed(socket: TLSSocket): string {
    const group = negotiatedGroup(socket);
    this.#total.inc({ channel: this.#channel, group, result: 'ok' });
    return group;
  }

  /** Counts a refused or failed handshake and logs it, naming the peer. */
  refused(err: NodeJS.ErrnoException, socket: TLSSocket | undefined): void {
    const result = refusalReason(err);
    this.#total.inc({ channel: this.#channel, group: 'none', result });
    const peer = socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
    // An aborted handshake is a port scan or a load-balancer probe far more often than an attack.
    const level = result === 'aborted' ? 'debug' : 'warn';
    this.#log[level]({ channel: this.#channel, peer, reason: result, err: err.message }, 'TLS handshake refused');
  }
}

/** Counts every handshake `server` completes or refuses (a tls.Server, or an https one). */
export function countHandshakes(server: TlsServer, metrics: HandshakeMetrics): void {
  server.on('secureConnection', (socket: TLSSocket) => metrics.completed(socket));
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => metrics.refused(err, socket));
}
