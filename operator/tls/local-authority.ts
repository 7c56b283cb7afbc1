// The certificates `meshpilot local` gives its xDS channel when none are named: a CA of its
// own, a serving certificate it signs for loopback, and one client certificate with a SPIFFE
// ID, so that mTLS to the control plane works on a laptop as it does in a cluster. They are
// kept in the state directory (so a client configured once keeps working across restarts)
// and issued again when missing, unreadable or within a day of expiring.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, type IssuedCertificate } from './certificate-issuer.ts';
import type { CredentialFiles } from './credentials.ts';
import { saveCertificate, storedCertificate } from './stored-certificate.ts';

/** The SPIFFE ID of the client certificate `local` issues. */
export const LOCAL_CLIENT_ID = 'spiffe://meshpilot.local/ns/default/sa/local-client';

export interface LocalAuthority {
  /** The server's files (its CA signs client certificates too: mTLS). */
  server: Required<CredentialFiles>;
  /** A client's certificate and key, and the CA to trust, for `grpcurl`, Envoy or a test client. */
  client: { certFile: string; keyFile: string; caFile: string; identity: string };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The local authority's files in `dir`, issued as needed. */
export function localAuthority(dir: string, now = Date.now()): LocalAuthority {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => ({ certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) });
  let ca = storedCertificate(file('ca').certFile, file('ca').keyFile, now);
  const fresh = ca === undefined;
  if (!ca) {
    ca = issueCertificate({ commonName: 'meshpilot local CA', ca: true, now });
    saveCertificate(dir, 'ca', ca);
  }
  const leaves: [string, () => IssuedCertificate][] = [
    ['server', () => issueCertificate({ commonName: 'meshpilot-xds', sans: ['localhost', '127.0.0.1', '::1'], issuer: ca, now, notAfter: now + 365 * DAY_MS })],
    ['client', () => issueCertificate({ commonName: 'local-client', sans: [LOCAL_CLIENT_ID], issuer: ca, now, notAfter: now + 365 * DAY_MS })],
  ];
  for (const [name, issue] of leaves) {
    if (fresh || !storedCertificate(file(name).certFile, file(name).keyFile, now)) saveCertificate(dir, name, issue());
  }
  const caFile = file('ca').certFile;
  return { server: { ...file('server'), caFile }, client: { ...file('client'), caFile, identity: LOCAL_CLIENT_ID } };
}
