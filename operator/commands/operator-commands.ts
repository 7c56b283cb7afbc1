// The commands that run the operator: `run` against a cluster, `local` with the embedded
// control plane, and `start` (what `npm start` runs), which picks one of them.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rawFlag, type Env } from '../base/flags.ts';
import { LOCAL_FLAGS, OPERATOR_FLAGS, localConfig, operatorConfig } from '../process/config.ts';
import type { Command } from './command.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the operator against a cluster (kubeconfig or in-cluster)',
  usage: 'meshpilot run [flags]',
  about: 'Runs the operator against a Kubernetes cluster: watches AdaptiveRoute and ContactPlan\nobjects, reconciles them and reports status, conditions and events.',
  flags: async () => OPERATOR_FLAGS,
  readsEnvironment: true,
  run: async (args, env) => (await import('../main.ts')).runOperator(operatorConfig(args, env)),
};

export const localCommand: Command = {
  name: 'local',
  summary: 'run an embedded local control plane, the operator and the example routes',
  usage: 'meshpilot local [flags]',
  about:
    'Starts an embedded, Kubernetes-API-compatible control plane that keeps its state in\n--state-dir, registers the CRDs from crds/, applies the examples from deploy/examples/ on\nfirst start, and runs the operator against it. Prints the kubeconfig path for kubectl.',
  flags: async () => LOCAL_FLAGS,
  readsEnvironment: true,
  run: async (args, env) => (await import('../main.ts')).runLocal(localConfig(args, env)),
};

/** Whether a cluster is configured: a kubeconfig by flag or environment, ~/.kube/config, or in-cluster. */
function clusterConfigured(args: string[], env: Env): boolean {
  return Boolean(rawFlag(args, 'kubeconfig') || env.KUBECONFIG || env.MESHPILOT_KUBECONFIG || existsSync(join(homedir(), '.kube', 'config')) || env.KUBERNETES_SERVICE_HOST);
}

export const startCommand: Command = {
  name: 'start',
  summary: "run against the current cluster, or, with no kubeconfig, start 'local'",
  usage: 'meshpilot start [flags]',
  about:
    "Runs 'meshpilot run' when a kubeconfig is available ($KUBECONFIG, ~/.kube/config, or\nin-cluster), otherwise 'meshpilot local'. This is what 'npm start' runs.\nFlags: those of 'run', or of 'local' when no cluster is found.",
  run: async (args, env) => {
    if (clusterConfigured(args, env)) {
      process.stderr.write('meshpilot start: a cluster is configured; running the operator against it (meshpilot run)\n');
      return runCommand.run(args, env);
    }
    process.stderr.write('meshpilot start: no kubeconfig found; starting the embedded local control plane (meshpilot local)\n');
    return localCommand.run(args, env);
  },
};
