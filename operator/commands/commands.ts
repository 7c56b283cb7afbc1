// Every `meshpilot` command, in the order `meshpilot --help` lists them.
import { version } from '../process/version.ts';
import type { Command } from './command.ts';
import { controlPlaneCommand } from './control-plane.ts';
import { localCommand, runCommand, startCommand } from './operator-commands.ts';
import { evaluateCommand, promoteCommand, scenariosCommand, trainCommand } from './training-commands.ts';
import { validateCommand } from './validate.ts';
import { xdsCommand } from './xds.ts';

const versionCommand: Command = {
  name: 'version',
  summary: 'print the version',
  usage: 'meshpilot version',
  about: "Prints meshpilot's version (package.json's).",
  run: async () => {
    console.log(version());
    return 0;
  },
};

export const COMMANDS: readonly Command[] = [
  startCommand,
  runCommand,
  localCommand,
  controlPlaneCommand,
  validateCommand,
  xdsCommand,
  trainCommand,
  evaluateCommand,
  promoteCommand,
  scenariosCommand,
  versionCommand,
];

/** `meshpilot --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'meshpilot — steers service-mesh traffic with a learned policy',
    '',
    'Usage: meshpilot <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    "Run 'meshpilot <command> --help' for the flags of a command.",
  ].join('\n');
}
