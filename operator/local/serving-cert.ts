// The local API server's TLS identity. client-go (kubectl) sends bearer tokens only over
// TLS, so the server speaks HTTPS with a self-signed ECDSA P-256 certificate that is its own
// CA: the kubeconfig carries it as certificate-authority-data, and both Go and OpenSSL
// accept a self-signed certificate found in the root pool as the whole chain (issued by
// tls/certificate-issuer.ts). The certificate is kept in the state directory, so a
// kubeconfig stays valid across restarts, and re-issued when it no longer covers the host.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { issueCertificate } from '../tls/certificate-issuer.ts';

/** PEM certificate and key. */
export interface ServingCert {
  cert: string;
  key: string;
}

/** Issues a self-signed serving certificate for `hosts` (DNS names and IP addresses). */
export function issueServingCert(hosts: string[], now = Date.now(), serial: Buffer = randomBytes(16)): ServingCert {
  return issueCertificate({ commonName: 'meshpilot-local-apiserver', sans: hosts, ca: true, now, serial });
}

function covers(certPem: string, host: string): boolean {
  const cert = new X509Certificate(certPem);
  return isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

/**
 * The state directory's serving certificate, issued on first use and re-issued when it does
 * not cover `host` or expires within a day.
 */
export function loadServingCert(stateDir: string, host: string): ServingCert {
  const certPath = join(stateDir, 'tls.crt');
  const keyPath = join(stateDir, 'tls.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const cert = readFileSync(certPath, 'utf8');
      const key = readFileSync(keyPath, 'utf8');
      createPrivateKey(key);
      const expires = Date.parse(new X509Certificate(cert).validTo);
      if (covers(cert, host) && expires - Date.now() > 24 * 60 * 60 * 1000) return { cert, key };
    } catch {
      // Unreadable or torn by a crash: issue a new one below.
    }
  }
  const issued = issueServingCert(['localhost', '127.0.0.1', '::1', host]);
  writeFileSync(`${keyPath}.tmp`, issued.key, { mode: 0o600 });
  renameSync(`${keyPath}.tmp`, keyPath);
  writeFileSync(`${certPath}.tmp`, issued.cert, { mode: 0o644 });
  renameSync(`${certPath}.tmp`, certPath);
  return issued;
}
