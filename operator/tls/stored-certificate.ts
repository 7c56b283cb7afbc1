// A certificate and its key kept in a directory by meshpilot itself (the embedded control
// plane's serving certificate, `local`'s authority): read back when still usable, written so
// that a crash leaves the old pair or the new one, never a torn file.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedCertificate } from './certificate-issuer.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The pair in `certFile`/`keyFile` when both read, the key parses, the certificate is valid
 * for at least another day and passes `check`; undefined otherwise (missing, torn by a crash,
 * expiring), so that the caller issues a new one.
 */
export function storedCertificate(certFile: string, keyFile: string, now: number, check: (cert: X509Certificate) => boolean = () => true): IssuedCertificate | undefined {
  try {
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    createPrivateKey(key);
    const x = new X509Certificate(cert);
    return Date.parse(x.validTo) - now > DAY_MS && check(x) ? { cert, key } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `name`.key (0600) then `name`.crt in `dir`, each through a rename. */
export function saveCertificate(dir: string, name: string, issued: IssuedCertificate): void {
  for (const [file, text, mode] of [[`${name}.key`, issued.key, 0o600], [`${name}.crt`, issued.cert, 0o644]] as const) {
    writeFileSync(join(dir, `${file}.tmp`), text, { mode });
    renameSync(join(dir, `${file}.tmp`), join(dir, file));
  }
}
