#!/usr/bin/env node
// The `meshpilot` command: finds the command (operator/commands/), prints help generated from
// its flags, and runs it with this process's environment. Exit codes: 0 done, 1 failed, 2 bad
// usage; a fatal error says what to change.
import { ConfigError, MeshpilotError } from './base/errors.ts';
import { commandHelp } from './commands/command.ts';
import { COMMANDS, mainHelp } from './commands/commands.ts';
import { processEnvironment, stackTracesWanted } from './process/config.ts';

async function main(argv: string[]): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    console.log(mainHelp());
    return word === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === word);
  if (!command) {
    console.error(`meshpilot: unknown command "${word}"\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(await commandHelp(command));
    return 0;
  }
  const env = processEnvironment();
  try {
    return await command.run(rest, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`meshpilot ${word}: ${e.message}\nRun 'meshpilot ${word} --help' for usage.`);
      return 2;
    }
    console.error(`meshpilot ${word}: ${fatalMessage(e, stackTracesWanted(rest, env))}`);
    return 1;
  }
}

/**
 * A fatal error in words: meshpilot's own errors already say what to change; anything else
 * is a bug, whose stack is one flag away.
 */
function fatalMessage(e: unknown, withStack: boolean): string {
  if (!(e instanceof Error)) return String(e);
  if (withStack) return e.stack ?? e.message;
  if (e instanceof MeshpilotError) return e.message;
  return `${e.message} (an unexpected ${e.name}; --log-level debug prints its stack trace)`;
}

const code = await main(process.argv.slice(2));
// Long-running commands resolve only once they have shut down, so nothing is left to finish:
// a failure exits at once, rather than waiting on a timer or socket that outlived it.
if (code !== 0) process.exit(code);
process.exitCode = code;
