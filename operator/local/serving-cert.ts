// The local API server's TLS identity. client-go (kubectl) sends bearer tokens only over
// TLS, so the server speaks HTTPS with a self-signed ECDSA P-256 certificate that is its own
// CA: the kubeconfig carries it as certificate-authority-data, and both Go and OpenSSL
// accept a self-signed certificate found in the root pool as the whole chain. Node cannot
// issue certificates, so this module encodes the X.509 DER itself (RFC 5280) and signs it
// with node:crypto. The certificate is kept in the state directory, so a kubeconfig stays
// valid across restarts, and re-issued when it no longer covers the listen host.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

/** PEM certificate and key. */
export interface ServingCert {
  cert: string;
  key: string;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * A DER INTEGER of the unsigned big-endian `bytes`: minimal, so leading zero bytes go (DER
 * refuses them: OpenSSL reads a serial that starts 00 0x.. as "illegal padding", which one
 * random 16-byte serial in 512 did), and a zero byte is added when the high bit is set.
 */
function positiveInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff]));
}

/** Issues a self-signed serving certificate for `hosts` (DNS names and IP addresses). */
export function issueServingCert(hosts: string[], now = Date.now(), serial: Buffer = randomBytes(16)): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sigAlg = seq(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const subject = name('meshpilot-local-apiserver');
  const san = seq(...[...new Set(hosts)].map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii')))));
  const extensions = seq(
    extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))), // basicConstraints CA:TRUE
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))), // keyUsage digitalSignature, keyCertSign
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage serverAuth
    extension('2.5.29.17', false, san),
  );
  const tbs = seq(
    tlv(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(serial),
    sigAlg,
    subject,
    seq(time(new Date(now - 60 * 60 * 1000)), time(new Date(now + 10 * 365 * 24 * 60 * 60 * 1000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.from([0]), signature));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return { cert: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
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
