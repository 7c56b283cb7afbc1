// X.509 certificates issued in-process (RFC 5280, ECDSA P-256): the embedded control plane's
// self-signed serving certificate, the CA and leaves `meshpilot local` gives its channels,
// and the workload identities tests and benchmarks need. Identities are SPIFFE IDs in a URI
// subjectAltName (spiffe://trust-domain/ns/NAMESPACE/sa/ACCOUNT), as Istio and SPIRE write them.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { derChildren, extension, ipBytes, name, oid, positiveInteger, seq, time, tlv } from './der.ts';

/** A PEM certificate and its PEM (PKCS#8) key. */
export interface IssuedCertificate {
  cert: string;
  key: string;
}

export interface CertificateRequest {
  commonName: string;
  /** DNS names, IP addresses and URIs (spiffe://…) for the subjectAltName. */
  sans?: readonly string[];
  /** Signs the certificate; absent: self-signed. */
  issuer?: IssuedCertificate;
  /** A CA may sign others (basicConstraints CA:TRUE, keyCertSign). */
  ca?: boolean;
  /** Default: now minus an hour (clock skew). */
  notBefore?: number;
  /** Default: ten years after now. */
  notAfter?: number;
  serial?: Buffer;
  now?: number;
}

const HOUR_MS = 60 * 60 * 1000;
const YEAR_MS = 365 * 24 * HOUR_MS;

function sanEntry(value: string): Buffer {
  if (isIP(value)) return tlv(0x87, ipBytes(value));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return tlv(0x86, Buffer.from(value, 'ascii'));
  return tlv(0x82, Buffer.from(value, 'ascii'));
}

function toPem(der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** Issues a certificate for `request` (both serverAuth and clientAuth: mesh identities are both). */
export function issueCertificate(request: CertificateRequest): IssuedCertificate {
  const now = request.now ?? Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = request.issuer ? createPrivateKey(request.issuer.key) : privateKey;
  const issuerName = request.issuer ? subjectOf(new X509Certificate(request.issuer.cert).raw) : undefined;
  const sigAlg = seq(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const subject = name(request.commonName);
  const sans = [...new Set(request.sans ?? [])];
  const extensions = seq(
    extension('2.5.29.19', true, seq(...(request.ca ? [tlv(0x01, Buffer.from([0xff]))] : []))), // basicConstraints
    extension('2.5.29.15', true, tlv(0x03, request.ca ? Buffer.from([0x02, 0x84]) : Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature (+ keyCertSign)
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))), // extKeyUsage serverAuth, clientAuth
    ...(sans.length > 0 ? [extension('2.5.29.17', false, seq(...sans.map(sanEntry)))] : []),
  );
  const tbs = seq(
    tlv(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(request.serial ?? randomBytes(16)),
    sigAlg,
    issuerName ?? subject,
    seq(time(new Date(request.notBefore ?? now - HOUR_MS)), time(new Date(request.notAfter ?? now + 10 * YEAR_MS))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.from([0]), signature));
  return { cert: toPem(der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The subject Name of a DER certificate, as the issuer of the ones it signs. */
function subjectOf(certDer: Buffer): Buffer {
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, sigAlg, issuer, validity, subject, … } … }
  const [certificate] = derChildren(certDer) ?? [];
  const [tbs] = certificate ? (derChildren(certDer, certificate.start, certificate.end) ?? []) : [];
  const subject = tbs ? derChildren(certDer, tbs.start, tbs.end)?.[5] : undefined;
  if (!subject) throw new TypeError('the issuer certificate does not parse');
  return certDer.subarray(subject.at, subject.end);
}
