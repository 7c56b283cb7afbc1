// Locates the independent clients the tests use to check the embedded API server's fidelity:
// Debian's kubectl 1.20 (package kubernetes-client), and kubectl 1.35 and helm 4 from an npm
// package. test/support/provision.sh unpacks them.
import { existsSync } from 'node:fs';

const DEBIAN_KUBECTL = '/opt/meshpilot-test-deps/kubernetes-client/usr/bin/kubectl';

/** Path of Debian's kubectl; throws with the provisioning command when it is missing. */
export function debianKubectl(): string {
  if (existsSync(DEBIAN_KUBECTL)) return DEBIAN_KUBECTL;
  throw new Error(`Debian's kubectl is missing at ${DEBIAN_KUBECTL}: run 'bash test/support/provision.sh' as root`);
}

const CURRENT_CLIENTS = '/opt/meshpilot-test-deps/kubectl-v35';

/** Path of kubectl v1.35 (from the npm package provision.sh unpacks); throws with the provisioning command when missing. */
export function currentKubectl(): string {
  const path = `${CURRENT_CLIENTS}/kubectl/kubectl`;
  if (existsSync(path)) return path;
  throw new Error(`kubectl v1.35 is missing at ${path}: run 'bash test/support/provision.sh' as root`);
}

/** Path of helm 4 (from the same package). */
export function helmBinary(): string {
  const path = `${CURRENT_CLIENTS}/helm/helm`;
  if (existsSync(path)) return path;
  throw new Error(`helm is missing at ${path}: run 'bash test/support/provision.sh' as root`);
}

/** The kubectls the fidelity tests run with: Debian's 1.20 and a current one. */
export function kubectls(): [string, () => string][] {
  return [
    ['Debian kubectl 1.20', debianKubectl],
    ['kubectl 1.35', currentKubectl],
  ];
}
