// Where the evaluation commands write: result lines to stdout, progress and errors to stderr,
// injectable so that tests read both.
import { ConfigError } from '../../operator/base/errors.ts';
export interface LineIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export const processIo: LineIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

/** The exit code for a failure of an evaluation command, after saying why: 2 for bad input, 1 otherwise. */
export function failure(io: LineIo, e: unknown, command = 'evaluate'): number {
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(`meshpilot ${command}: ${message}`);
  return e instanceof ConfigError ? 2 : 1;
}
