// A `meshpilot` command as the command line sees it: its word, a line for the command list,
// its usage and description, its flags (base/flags.ts: help generated from them) and what
// runs it. Exit codes: 0 done, 1 failed, 2 bad usage (a ConfigError), others as a command says.
import { flagsHelp, type Env, type FlagShape } from '../base/flags.ts';

export interface Command {
  name: string;
  /** One line for `meshpilot --help`. */
  summary: string;
  /** Usage lines, without the flags. */
  usage: string;
  /** What it does, in a paragraph or two. */
  about: string;
  /**
   * Its flags; help lists them in this order. Loaded only for --help: the offline commands'
   * flags live beside code that loads TensorFlow, which `meshpilot run` must not wait for.
   */
  flags?: () => Promise<FlagShape>;
  /** True when every flag also reads MESHPILOT_<FLAG>. */
  readsEnvironment?: boolean;
  run(args: string[], env: Env): Promise<number>;
}

/** `meshpilot <command> --help`. */
export async function commandHelp(command: Command): Promise<string> {
  const parts = [`Usage: ${command.usage}`, command.about];
  const flags = command.flags ? await command.flags() : {};
  if (Object.keys(flags).length > 0) parts.push(`Flags:\n${flagsHelp(flags)}`);
  if (command.readsEnvironment) parts.push('Every flag can also be set as MESHPILOT_<FLAG> (e.g. MESHPILOT_LOG_LEVEL=debug).');
  return parts.join('\n\n');
}
