// The local API server's TLS identity. client-go (kubectl) sends bearer tokens only over
// TLS, so the server speaks HTTPS with a self-signed ECDSA P-256 certificate that is its own
// CA: the kubeconfig carries it as certificate-authority-data, and both Go and OpenSSL
// accept a self-signed certificate found in the root pool as the whole chain (issued by
// tls/certificate-issuer.ts). The certificate is kept in the state directory, so a
// kubeconfig stays valid across restarts, and re-issued when it no longer covers the host.
import { randomBytes, type X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { issueCertificate } from '../tls/certificate-issuer.ts';
import { saveCertificate, storedCertificate } from '../tls/stored-certificate.ts';

/** PEM certificate and key. */
export interface ServingCert {
  cert: string;
  key: string;
}

/** Issues a self-signed serving certificate for `hosts` (DNS names and IP addresses). */
export function issueServingCert(hosts: string[], now = Date.now(), serial: Buffer = randomBytes(16)): ServingCert {
  return issueCertificate({ commonName: 'meshpilot-local-apiserver', sans: hosts, ca: true, now, serial });
}

function covers(cert: X509Certificate, host: string): boolean {
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

/**
 * The state directory's serving certificate, issued on first use and re-issued when it does
 * not cover `host` or expires within a day.
 */
export function loadServingCert(stateDir: string, host: string): ServingCert {
  const stored = storedCertificate(join(stateDir, 'tls.crt'), join(stateDir, 'tls.key'), Date.now(), (cert) => covers(cert, host));
  if (stored) return stored;
  const issued = issueServingCert(['localhost', '127.0.0.1', '::1', host]);
  saveCertificate(stateDir, 'tls', issued);
  return issued;
}
