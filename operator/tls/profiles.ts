// The TLS profiles a channel can require, as OpenSSL group lists Node's TLS takes. The list
// syntax matters: with "X25519MLKEM768:X25519" a client whose first key share is X25519 gets
// X25519 even when it supports the hybrid group (measured with OpenSSL 3.5 in Node 24); the
// tuple form "X25519MLKEM768/X25519" makes the server ask for the hybrid share (a
// HelloRetryRequest) and fall back to X25519 only for a peer that offers nothing else.
import type { SecureContextOptions } from 'node:tls';

export const TLS_PROFILES = ['classical', 'pq-hybrid', 'pq-only'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

interface ProfileSettings {
  /** OpenSSL group list, in preference order ("/" separates preference tuples). */
  groups: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

const PROFILES: Record<TlsProfile, ProfileSettings> = {
  classical: { groups: 'X25519', minVersion: 'TLSv1.2' },
  'pq-hybrid': { groups: 'X25519MLKEM768/X25519', minVersion: 'TLSv1.3' },
  'pq-only': { groups: 'X25519MLKEM768:MLKEM768', minVersion: 'TLSv1.3' },
};

/** The secure-context options that make a server or a client speak `profile`. */
export function profileOptions(profile: TlsProfile): Pick<SecureContextOptions, 'ecdhCurve' | 'minVersion'> {
  const p = PROFILES[profile];
  return { ecdhCurve: p.groups, minVersion: p.minVersion };
}
