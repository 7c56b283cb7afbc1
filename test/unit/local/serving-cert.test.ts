// The serving certificate is DER this project encodes by hand: whatever its random serial,
// OpenSSL must accept it as a TLS server's certificate.
import { createServer } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { issueServingCert } from '../../../operator/local/serving-cert.ts';

describe('issueServingCert', () => {
  it.each([
    ['leading zero bytes (the 1-in-512 serial OpenSSL refused as "illegal padding")', '0001020304050607080900010203040f'],
    ['a high first bit', 'ff01020304050607080900010203040f'],
    ['all zeros', '00000000000000000000000000000000'],
    ['an ordinary serial', '3a01020304050607080900010203040f'],
  ])('issues a certificate OpenSSL serves with, for a serial with %s', (_what, hex) => {
    const cert = issueServingCert(['localhost', '127.0.0.1'], Date.now(), Buffer.from(hex, 'hex'));
    const x509 = new X509Certificate(cert.cert);
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(BigInt(`0x${x509.serialNumber}`)).toBe(BigInt(`0x${hex}`));
    const server = createServer({ cert: cert.cert, key: cert.key });
    server.close();
  });
});
