// Runs the local API server as its own process:
//   node operator/local/run-server.ts --state-dir DIR [--port N] [--host H] [--crd-dir DIR] [--log-level L]
// Prints one JSON line `{"url","kubeconfig","pid"}` on stdout when it is ready, logs JSON to
// stderr, and exits 0 after a graceful close on SIGTERM or SIGINT. Tests SIGKILL it and start
// it again on the same state directory.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { LocalApiServer } from './server.ts';
import { ConfigError } from '../base/errors.ts';

/** Parses argv, starts the server, and wires signals; resolves once the server is up. */
export async function runServer(argv: string[]): Promise<LocalApiServer> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'crd-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'watch-history': { type: 'string' },
    },
    strict: true,
  });
  const stateDir = values['state-dir'];
  if (!stateDir) throw new ConfigError('--state-dir is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number, got ${values.port}`);
  const logger = pino({ level: values['log-level'] }, pino.destination(2));
  const server = await LocalApiServer.start({
    stateDir,
    port,
    host: values.host,
    ...(values['crd-dir'] ? { crdDir: values['crd-dir'] } : {}),
    ...(values['watch-history'] ? { watchHistory: Number(values['watch-history']) } : {}),
    logger,
  });
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping local API server');
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.stdout.write(`${JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath, pid: process.pid })}\n`);
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runServer(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`local API server failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
