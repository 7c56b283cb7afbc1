// `meshpilot validate`: manifests checked offline as the API server would check them, with
// the fields no output carries yet said as warnings.
import { z } from 'zod';
import { ConfigError } from '../base/errors.ts';
import { flag, parseFlags } from '../base/flags.ts';
import type { Command } from './command.ts';

const FLAGS = {
  filename: flag(z.array(z.string()).optional(), { arg: 'FILE|DIR', short: 'f', multiple: true, help: 'a manifest file, or a directory of *.yaml, *.yml and *.json; repeatable' }),
};

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check manifest files against the CRD schemas, offline',
  usage: 'meshpilot validate -f FILE|DIR [-f ...]',
  about:
    'Checks AdaptiveRoute and ContactPlan manifests against the CRD schemas in crds/ (the same\nchecks the API server makes, CEL rules included) and prints every problem with its field\npath, and a Warning line for each field no output carries yet. Documents of other kinds are\nskipped. Exit code 1 when anything is invalid.',
  flags: async () => FLAGS,
  async run(args) {
    const paths = parseFlags(FLAGS, args).filename ?? [];
    if (paths.length === 0) throw new ConfigError('-f: name at least one file or directory');
    // Loaded here, not with the command table: the CRD schemas and their CEL rules are compiled on load.
    const { validateManifests } = await import('../validate-manifests.ts');
    let invalid = 0;
    for (const r of validateManifests(paths)) {
      if (r.skipped) {
        console.log(`${r.file}: ${r.object}: skipped (not a meshpilot kind)`);
      } else if (r.problems.length === 0) {
        console.log(`${r.file}: ${r.object}: valid${r.notImplemented.map((n) => `\n  Warning: ${n}`).join('')}`);
      } else {
        invalid++;
        console.log(`${r.file}: ${r.object}: invalid\n${r.problems.map((p) => `  ${p}`).join('\n')}`);
      }
    }
    return invalid === 0 ? 0 : 1;
  },
};
