// Certificates and keys from files, as Kubernetes mounts a Secret: checked before any socket
// uses them, so that a bad Secret is refused with the file and what is wrong — expired, not
// yet valid, a key for another certificate, a CA bundle with garbage, a missing identity —
// rather than failing every handshake later with an OpenSSL code.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../base/errors.ts';

export interface CredentialFiles {
  /** PEM certificate chain, leaf first. */
  certFile: string;
  /** PEM private key of the leaf. */
  keyFile: string;
  /** PEM CA bundle peers are verified against (mTLS); none: peers are not asked for certificates. */
  caFile?: string;
}

/** How each file is named in error messages when not `prefix.certFile` (e.g. the flag "--xds-tls-cert"). */
export type FieldNames = Partial<Record<keyof CredentialFiles, string>>;

export interface Credentials {
  cert: string;
  key: string;
  ca?: string;
  /** The leaf, parsed: serial, validity, subjectAltName. */
  leaf: X509Certificate;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function read(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${field} ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The certificates of a PEM bundle; ConfigError for anything else in it, or none at all. */
function certificates(text: string, file: string, field: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  const rest = text.replace(PEM_CERT, '').trim();
  if (rest !== '') throw new ConfigError(`${field} ${file}: holds something other than PEM certificates ("${rest.slice(0, 40)}")`);
  if (blocks.length === 0) throw new ConfigError(`${field} ${file}: holds no PEM certificate`);
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new ConfigError(`${field} ${file}: certificate ${i + 1} does not parse: ${(e as Error).message}`, { cause: e });
    }
  });
}

function checkValidity(cert: X509Certificate, nowMs: number, file: string, field: string): void {
  const from = Date.parse(cert.validFrom), to = Date.parse(cert.validTo);
  if (nowMs < from) throw new ConfigError(`${field} ${file}: certificate (serial ${cert.serialNumber}) is not valid before ${cert.validFrom}`);
  if (nowMs > to) throw new ConfigError(`${field} ${file}: certificate (serial ${cert.serialNumber}) expired at ${cert.validTo}`);
}

/**
 * Reads and checks `files` at `nowMs`: the leaf is valid now and matches the key, every CA
 * parses, and the leaf carries `requiredSan` (e.g. "URI:spiffe://…") when one is given.
 * Throws ConfigError naming the field (`prefix.certFile`, …) and the file.
 */
export function loadCredentials(files: CredentialFiles, nowMs: number, options: { prefix?: string; fieldNames?: FieldNames; requiredSan?: string } = {}): Credentials {
  const field = (name: keyof CredentialFiles) => options.fieldNames?.[name] ?? (options.prefix ? `${options.prefix}.${name}` : name);
  const cert = read(files.certFile, field('certFile'));
  const key = read(files.keyFile, field('keyFile'));
  const [leaf] = certificates(cert, files.certFile, field('certFile'));
  checkValidity(leaf!, nowMs, files.certFile, field('certFile'));
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new ConfigError(`${field('keyFile')} ${files.keyFile}: not a PEM private key: ${(e as Error).message}`, { cause: e });
  }
  if (!leaf!.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${field('keyFile')} ${files.keyFile}: is not the key of the certificate in ${files.certFile} (serial ${leaf!.serialNumber})`);
  }
  if (options.requiredSan && !(leaf!.subjectAltName ?? '').split(', ').includes(options.requiredSan)) {
    throw new ConfigError(`${field('certFile')} ${files.certFile}: the certificate lacks the subjectAltName ${options.requiredSan} (it has: ${leaf!.subjectAltName ?? 'none'})`);
  }
  if (files.caFile === undefined) return { cert, key, leaf: leaf! };
  const ca = read(files.caFile, field('caFile'));
  // Parsed only to refuse a bundle that is not one; TLS reads the PEM itself.
  certificates(ca, files.caFile, field('caFile'));
  return { cert, key, ca, leaf: leaf! };
}
