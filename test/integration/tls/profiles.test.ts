// The TLS profiles on real handshakes over loopback (Node 24, OpenSSL 3.5): what each profile
// negotiates with clients that offer different groups, and that pq-only refuses a client that
// offers only X25519.
import { afterAll, describe, expect, it } from '@jest/globals';
import { connect, createServer, type Server } from 'node:tls';
import { issueServingCert } from '../../../operator/local/serving-cert.ts';
import { profileOptions, type TlsProfile } from '../../../operator/tls/profiles.ts';

const { cert, key } = issueServingCert(['localhost', '127.0.0.1']);
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

type Outcome = { group: string } | { refused: string };

/** One handshake: a server speaking `profile`, a client offering `clientGroups` (its first gets a key share). */
async function handshake(profile: TlsProfile, clientGroups: string): Promise<Outcome> {
  const server = createServer({ cert, key, ...profileOptions(profile) }, (s) => s.end('ok'));
  servers.push(server);
  const serverError = new Promise<string>((resolve) => server.on('tlsClientError', (e) => resolve(e.message)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return new Promise<Outcome>((resolve) => {
    const client = connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost', ecdhCurve: clientGroups });
    client.on('secureConnect', () => {
      resolve({ group: (client.getEphemeralKeyInfo() as { name?: string } | null)?.name ?? '' });
      client.destroy();
    });
    client.on('error', () => void serverError.then((message) => resolve({ refused: message })));
  });
}

describe('TLS profiles on the wire', () => {
  it('classical negotiates X25519', async () => {
    expect(await handshake('classical', 'X25519')).toEqual({ group: 'X25519' });
  });

  it('pq-hybrid gets the hybrid group even from a client whose first key share is X25519, and X25519 only from one that offers nothing else', async () => {
    expect(await handshake('pq-hybrid', 'X25519MLKEM768:X25519')).toEqual({ group: 'X25519MLKEM768' });
    expect(await handshake('pq-hybrid', 'X25519:X25519MLKEM768')).toEqual({ group: 'X25519MLKEM768' });
    expect(await handshake('pq-hybrid', 'X25519')).toEqual({ group: 'X25519' });
  });

  it('pq-only takes the hybrid or pure ML-KEM and refuses a classical-only client', async () => {
    expect(await handshake('pq-only', 'X25519MLKEM768')).toEqual({ group: 'X25519MLKEM768' });
    expect(await handshake('pq-only', 'MLKEM768')).toEqual({ group: 'MLKEM768' });
    const refused = await handshake('pq-only', 'X25519');
    expect(refused).toEqual({ refused: expect.stringMatching(/no suitable key share/) });
  });

  it('speaks TLS 1.3 only under the post-quantum profiles', () => {
    expect(profileOptions('classical').minVersion).toBe('TLSv1.2');
    expect(profileOptions('pq-hybrid').minVersion).toBe('TLSv1.3');
    expect(profileOptions('pq-only').minVersion).toBe('TLSv1.3');
  });
});
