// `meshpilot scenarios generate --seed N --count K --out DIR`: writes K generated scenario
// files (scenario-generator.ts) for training or held-out evaluation. Progress on stderr; the
// last stdout line is one JSON object with what was written.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../../operator/base/errors.ts';
import { flag, integerValue, oneOf, parseFlags, requiredString } from '../../operator/base/flags.ts';
import { failure, processIo, type LineIo } from '../evaluate/cli-io.ts';
import { validateScenario } from '../sim/scenario-loader.ts';
import { DEFAULT_GENERATOR, GENERATOR_COUNT_MAX, GENERATOR_SEED_MAX, GENERATOR_VERSIONS, generateScenario } from './scenario-generator.ts';

/** `meshpilot scenarios generate`'s flags. */
export const GENERATE_FLAGS = {
  seed: flag(integerValue(0, GENERATOR_SEED_MAX), { arg: 'N', help: "0 to 2^31-1; scenarios of one seed never appear in another's set" }),
  count: flag(integerValue(1, GENERATOR_COUNT_MAX), { arg: 'K', help: `1 to ${GENERATOR_COUNT_MAX} scenarios (scenario i of a seed is the same whatever K)` }),
  out: flag(requiredString(), { arg: 'DIR', help: 'where to write gen-<seed>-<i>.yaml; created if missing, must hold no such files yet' }),
  generator: flag(oneOf(GENERATOR_VERSIONS).default(DEFAULT_GENERATOR), {
    arg: 'V',
    help:
      'v3: v2 plus incidents on some pods only, tail-only slowdowns and cross-region retries; v2: v1 plus autoscaling, telemetry delay/bias/loss, follow-up incidents, link faults and routes without failover; v1: the set the first held-out figures were measured on',
  }),
};

/** Runs the command; resolves with the exit code (0 written, 2 bad input, 1 other errors). */
export async function runGenerate(argv: string[], io: LineIo = processIo): Promise<number> {
  try {
    const args = parseFlags(GENERATE_FLAGS, argv);
    await mkdir(args.out, { recursive: true });
    const clash = (await readdir(args.out)).filter((f) => f.startsWith(`gen-${args.seed}-`));
    if (clash.length > 0) throw new ConfigError(`--out: ${args.out} already holds ${clash.length} scenario(s) of seed ${args.seed} (e.g. ${clash[0]}); use an empty directory`);
    const regions: Record<number, number> = {};
    let calm = 0;
    for (let i = 0; i < args.count; i++) {
      const g = generateScenario(args.seed, i, args.generator);
      // What the loader would refuse is a generator bug: it must never reach a file.
      const s = validateScenario(g.doc, g.file);
      regions[s.regions.length] = (regions[s.regions.length] ?? 0) + 1;
      if (g.calm) calm++;
      await writeFile(join(args.out, g.file), stringify(g.doc, { lineWidth: 0 }));
      if ((i + 1) % 50 === 0 || i + 1 === args.count) io.stderr(`scenarios generate: ${i + 1}/${args.count} written to ${args.out}`);
    }
    io.stdout(JSON.stringify({ generate: { seed: args.seed, count: args.count, out: args.out, generator: args.generator, calm, incidents: args.count - calm, regions } }));
    return 0;
  } catch (e) {
    return failure(io, e, 'scenarios generate');
  }
}
