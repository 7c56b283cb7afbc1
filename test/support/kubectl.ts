// Locates Debian's kubectl (package kubernetes-client), the independent client the tests use
// to check the embedded API server's fidelity. test/support/provision.sh unpacks it.
import { existsSync } from 'node:fs';

const DEBIAN_KUBECTL = '/opt/meshpilot-test-deps/kubernetes-client/usr/bin/kubectl';

/** Path of Debian's kubectl; throws with the provisioning command when it is missing. */
export function debianKubectl(): string {
  if (existsSync(DEBIAN_KUBECTL)) return DEBIAN_KUBECTL;
  throw new Error(`Debian's kubectl is missing at ${DEBIAN_KUBECTL}: run 'bash test/support/provision.sh' as root`);
}
