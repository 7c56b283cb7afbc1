// The kubeconfig the local API server writes for its clients (the operator, kubectl, tests):
// one cluster at the server's HTTPS URL with its certificate as CA, one user with the
// server's bearer token.
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/**
 * Writes a kubeconfig atomically (temp file + rename) with owner-only permissions.
 * `caCert` (PEM) is the server's self-signed certificate.
 */
export function writeKubeconfig(path: string, server: string, token: string, caCert: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'meshpilot-local', cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } }],
    users: [{ name: 'meshpilot-local', user: { token } }],
    contexts: [{ name: 'meshpilot-local', context: { cluster: 'meshpilot-local', user: 'meshpilot-local', namespace: 'default' } }],
    'current-context': 'meshpilot-local',
    preferences: {},
  };
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, stringify(config), { mode: 0o600 });
  renameSync(tmp, path);
}
