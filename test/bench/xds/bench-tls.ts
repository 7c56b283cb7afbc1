// The certificates of a TLS benchmark: a CA, the server's certificate for localhost, and one
// client certificate whose SPIFFE ID is in the bench routes' namespace (every simulated
// client presents it: what it costs is the handshake and the record layer, not the identity).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { issueCertificate } from '../../../operator/tls/certificate-issuer.ts';
import type { CredentialFiles } from '../../../operator/tls/credentials.ts';
import type { TlsProfile } from '../../../operator/tls/profiles.ts';

export interface BenchTls {
  profile: TlsProfile;
  dir: string;
}

/** Writes ca.crt, server.crt/key and client.crt/key into `dir`. */
export function writeBenchCertificates(dir: string, namespace = 'bench'): void {
  const ca = issueCertificate({ commonName: 'meshpilot bench CA', ca: true });
  const server = issueCertificate({ commonName: 'meshpilot-xds', sans: ['localhost', '127.0.0.1'], issuer: ca });
  const client = issueCertificate({ commonName: 'bench-client', sans: [`spiffe://cluster.local/ns/${namespace}/sa/bench-client`], issuer: ca });
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  for (const [name, c] of [['server', server], ['client', client]] as const) {
    writeFileSync(join(dir, `${name}.crt`), c.cert);
    writeFileSync(join(dir, `${name}.key`), c.key);
  }
}

export function serverFiles(dir: string): Required<CredentialFiles> {
  return { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') };
}

/** The client's TLS options: its certificate, and the CA it trusts the server by. */
export function clientTlsOptions(dir: string): { ca: string; cert: string; key: string } {
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

export function clientCredentials(dir: string): grpc.ChannelCredentials {
  return grpc.credentials.createFromSecureContext(createSecureContext(clientTlsOptions(dir)));
}
