// Certificates and keys from files (operator/tls/credentials.ts): every way a mounted Secret
// can be unusable is refused with the file and what is wrong.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../operator/base/errors.ts';
import { issueServingCert } from '../../../operator/local/serving-cert.ts';
import { loadCredentials } from '../../../operator/tls/credentials.ts';

const NOW = Date.now();
let dir: string;
const path = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tls-credentials-'));
  const a = issueServingCert(['localhost'], NOW);
  const b = issueServingCert(['other.example'], NOW);
  await writeFile(path('a.crt'), a.cert);
  await writeFile(path('a.key'), a.key);
  await writeFile(path('b.key'), b.key);
  await writeFile(path('ca.pem'), `${a.cert}${b.cert}`);
  await writeFile(path('garbage-ca.pem'), `${a.cert}\nnot a certificate\n`);
  await writeFile(path('empty.pem'), '\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadCredentials', () => {
  it('loads a matching certificate, key and CA bundle, and parses them', () => {
    const c = loadCredentials({ certFile: path('a.crt'), keyFile: path('a.key'), caFile: path('ca.pem') }, NOW, { requiredSan: 'DNS:localhost' });
    expect(c.leaf.subjectAltName).toContain('DNS:localhost');
    expect(c.ca?.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('names the field and the file for each way the files are unusable', () => {
    const files = { certFile: path('a.crt'), keyFile: path('a.key') };
    const o = { prefix: '--xds-tls' };
    expect(refusal(() => loadCredentials({ ...files, certFile: path('missing.crt') }, NOW, o))).toMatch(/^--xds-tls\.certFile .*missing\.crt: cannot read: ENOENT/);
    expect(refusal(() => loadCredentials({ ...files, keyFile: path('b.key') }, NOW, o))).toMatch(/^--xds-tls\.keyFile .*b\.key: is not the key of the certificate in .*a\.crt/);
    expect(refusal(() => loadCredentials({ ...files, keyFile: path('a.crt') }, NOW, o))).toMatch(/^--xds-tls\.keyFile .*: not a PEM private key/);
    expect(refusal(() => loadCredentials({ ...files, caFile: path('garbage-ca.pem') }, NOW, o))).toMatch(/^--xds-tls\.caFile .*: holds something other than PEM certificates \("not a certificate"\)/);
    expect(refusal(() => loadCredentials({ ...files, caFile: path('empty.pem') }, NOW, o))).toMatch(/holds no PEM certificate/);
    expect(refusal(() => loadCredentials(files, NOW, { ...o, requiredSan: 'URI:spiffe://mesh/ns/shop/sa/checkout' }))).toMatch(/lacks the subjectAltName URI:spiffe:\/\/mesh\/ns\/shop\/sa\/checkout \(it has: DNS:localhost\)/);
  });

  it('refuses a certificate that has expired or is not valid yet', () => {
    const files = { certFile: path('a.crt'), keyFile: path('a.key') };
    const leaf = loadCredentials(files, NOW).leaf;
    expect(refusal(() => loadCredentials(files, Date.parse(leaf.validTo) + 1000))).toMatch(/expired at/);
    expect(refusal(() => loadCredentials(files, Date.parse(leaf.validFrom) - 1000))).toMatch(/is not valid before/);
  });
});
