// `meshpilot control-plane`: only the embedded API server, for running the operator (or
// kubectl) against it separately. Its one stdout line is the ready line scripts and tests read.
import { flag, oneOf, parseFlags } from '../base/flags.ts';
import { CONTROL_PLANE_FLAGS, LOG_LEVELS } from '../process/config.ts';
import type { Command } from './command.ts';

const FLAGS = {
  ...CONTROL_PLANE_FLAGS,
  'log-level': flag(oneOf(LOG_LEVELS).default('info'), { arg: 'LEVEL', help: LOG_LEVELS.join('|') }),
};

export const controlPlaneCommand: Command = {
  name: 'control-plane',
  summary: 'run only the embedded local control plane (a Kubernetes-compatible API server)',
  usage: 'meshpilot control-plane [flags]',
  about:
    'Runs only the embedded control plane, for running the operator (or kubectl) against it\nseparately. Prints one JSON line {"url":…,"kubeconfig":…,"pid":…} on stdout when it is ready.',
  flags: async () => FLAGS,
  readsEnvironment: true,
  async run(args, env) {
    const o = parseFlags(FLAGS, args, { env });
    // Loaded here, not with the command table: every other command starts without the API server.
    const [{ DEFAULT_CRD_DIR }, { LocalApiServer }, { listeningOn }, { createLogger }, { Shutdown }] = await Promise.all([
      import('../api/crds.ts'),
      import('../local/server.ts'),
      import('../process/listen-error.ts'),
      import('../process/logger.ts'),
      import('../process/shutdown.ts'),
    ]);
    // Logs go to stderr: stdout carries only the ready line.
    const logger = createLogger(o['log-level'], 2);
    const shutdown = new Shutdown(logger);
    shutdown.installSignalHandlers();
    const server = await listeningOn('the local API server', { host: '127.0.0.1', port: o['api-port'] }, '--api-port', () =>
      LocalApiServer.start({ stateDir: o['state-dir'], port: o['api-port'], crdDir: DEFAULT_CRD_DIR, logger, salvageState: o['salvage-state'], tlsProfile: o['api-tls-profile'] }),
    );
    shutdown.add('control plane', () => server.close());
    process.stdout.write(`${JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath, pid: process.pid })}\n`);
    // Runs until a signal: the shutdown handlers close the server and exit.
    return new Promise<never>(() => undefined);
  },
};
