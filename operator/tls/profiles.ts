// The TLS profiles a channel can require, as OpenSSL group lists Node's TLS takes. The list
// syntax matters: with "X25519MLKEM768:X25519" a client whose first key share is X25519 gets
// X25519 even when it supports the hybrid group (measured with OpenSSL 3.5 in Node 24); the
// tuple form "X25519MLKEM768/X25519" makes the server ask for the hybrid share (a
// HelloRetryRequest) and fall back to X25519 only for a peer that offers nothing else.
import type { SecureContextOptions } from 'node:tls';
import { ConfigError } from '../base/errors.ts';

export const TLS_PROFILES = ['classical', 'pq-hybrid', 'pq-only'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];

/** Key-exchange groups that resist a quantum adversary (ML-KEM, alone or hybrid). */
export const POST_QUANTUM_GROUPS = ['X25519MLKEM768', 'MLKEM768'] as const;

interface ProfileSettings {
  /** OpenSSL group list, in preference order ("/" separates preference tuples). */
  groups: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** What a handshake under this profile may negotiate. */
  accepts: readonly string[];
}

const PROFILES: Record<TlsProfile, ProfileSettings> = {
  classical: { groups: 'X25519', minVersion: 'TLSv1.2', accepts: ['X25519'] },
  'pq-hybrid': { groups: 'X25519MLKEM768/X25519', minVersion: 'TLSv1.3', accepts: ['X25519MLKEM768', 'X25519'] },
  'pq-only': { groups: 'X25519MLKEM768:MLKEM768', minVersion: 'TLSv1.3', accepts: ['X25519MLKEM768', 'MLKEM768'] },
};

/** `name` as a profile; ConfigError naming `field` and the profiles there are. */
export function tlsProfile(name: string, field: string): TlsProfile {
  if ((TLS_PROFILES as readonly string[]).includes(name)) return name as TlsProfile;
  throw new ConfigError(`${field}: "${name}" is not a TLS profile; one of ${TLS_PROFILES.join(', ')}`);
}

/** The secure-context options that make a server or a client speak `profile`. */
export function profileOptions(profile: TlsProfile): Pick<SecureContextOptions, 'ecdhCurve' | 'minVersion'> {
  const p = PROFILES[profile];
  return { ecdhCurve: p.groups, minVersion: p.minVersion };
}

/** Whether a handshake that negotiated `group` meets `profile` (a check on what the peer got, for tests and metrics). */
export function profileAccepts(profile: TlsProfile, group: string): boolean {
  return PROFILES[profile].accepts.includes(group);
}

/** Whether `group` is post-quantum. */
export function isPostQuantum(group: string): boolean {
  return (POST_QUANTUM_GROUPS as readonly string[]).includes(group);
}
