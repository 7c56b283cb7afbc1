// The offline commands: train, evaluate (and its off-policy gate), promote, scenarios. Their
// flags live beside the code that reads them (training/…); here is how the command line
// names, describes and starts them.
import { ConfigError } from '../base/errors.ts';
import type { Command } from './command.ts';

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a policy with PPO on the simulator\'s scenarios (writes a model directory)',
  usage: 'meshpilot train --scenarios DIR --out DIR [flags]',
  about:
    'Trains the policy with PPO on a mixture of the scenario files (training/scenarios) and, with\n--generated, generated meshes; rollouts in worker threads. Writes a model directory\n(model.json, weights, meshpilot-model.json with the command that reproduces it). Progress on\nstderr, one JSON line per iteration with --log, the summary as the last JSON line on stdout.\nSee training/README.md. Exit code 130 when stopped (a checkpoint is written first).',
  flags: async () => (await import('../../training/ppo/train-args.ts')).TRAIN_FLAGS,
  run: async (args) => (await import('../../training/ppo/train-main.ts')).runTrain(args),
};

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'run a model and the baseline heuristics on the simulator\'s scenarios',
  usage: 'meshpilot evaluate [--model DIR] [--heuristic] [--scenarios DIR] [--seeds N] [--json] [--out DIR]\n       meshpilot evaluate --decision-log FILE --routes FILE --model DIR [flags]',
  about: [
    'Runs the model (when given) and every baseline heuristic (static, istio, linkerd) on each',
    'scenario of the mesh simulator with several seeds, and reports SLO-violation seconds, p99',
    'latency, error rate, cross-region cost and weight churn per policy and scenario. With --out,',
    'writes evaluate.json and one SVG plot per scenario. The last line on stdout is the JSON result.',
    '',
    'With --decision-log it instead estimates, off policy, how the model would have done on the',
    'decisions the operator logged (IPS, self-normalised IPS and doubly robust, with bootstrap',
    'intervals), and gates it: exit 0 when its doubly robust lower bound beats the logged policy',
    'by --min-improvement, 3 when it does not. The flags below serve both; --model is required',
    'with --decision-log.',
  ].join('\n'),
  flags: async () => {
    const [{ EVALUATE_FLAGS }, { OPE_FLAGS }] = await Promise.all([import('../../training/evaluate/main.ts'), import('../../training/evaluate/ope-main.ts')]);
    const { model: _model, ...gate } = OPE_FLAGS;
    return { ...EVALUATE_FLAGS, ...gate };
  },
  run: async (args) => {
    // With a decision log: off-policy evaluation of the model against what was logged.
    if (args.some((a) => a === '--decision-log' || a.startsWith('--decision-log='))) return (await import('../../training/evaluate/ope-main.ts')).runOpe(args);
    return (await import('../../training/evaluate/main.ts')).runEvaluate(args);
  },
};

export const promoteCommand: Command = {
  name: 'promote',
  summary: 'gate a new model on the decision log and, if it passes, install it atomically',
  usage: 'meshpilot promote --candidate DIR --name NAME --decision-log FILE --routes FILE [flags]\n       meshpilot promote --name NAME --recover [--models-dir DIR]',
  about: [
    'Replaces the model routes reference as NAME with the candidate, if it passes the gate. Loads and',
    "checks the candidate, then runs the off-policy gate of 'evaluate --decision-log' on it and prints",
    'its {"ope":…} verdict. Only when it passes (or with --force, which says so loudly) is it',
    'installed: copied to DIR/.versions/NAME/<version>/, and DIR/NAME becomes a link to it, swapped in',
    'one rename, so a running operator loads the old model or the new one, never a mix. The last',
    'stdout line is {"promote":{"name":…,"from":…,"to":…,"accepted":…,"installed":…}}. An',
    'interrupted promotion is finished by the next promote or by --recover. Exit code 0 installed,',
    '3 rejected (nothing changed), 2 bad input, 1 other errors. See models/README.md.',
  ].join('\n'),
  flags: async () => (await import('../../training/promote/promote-main.ts')).PROMOTE_FLAGS,
  run: async (args) => (await import('../../training/promote/promote-main.ts')).runPromote(args),
};

export const scenariosCommand: Command = {
  name: 'scenarios',
  summary: 'generate random meshes (scenario files) for training and held-out evaluation',
  usage: 'meshpilot scenarios generate --seed N --count K --out DIR [--generator V]',
  about: [
    'Writes K scenario files of random, realistic meshes: 2 to 8 regions placed on a map (round',
    'trips from the geography), capacities, costs, objectives from tight to loose, demand with or',
    'without a daily shape, telemetry with or without health checks, and either a calm period',
    '(about 30%) or one to three incidents from the simulator\'s event library at random times.',
    'The same seed always gives the same files, and scenario i of a seed does not depend on K, so',
    "a held-out set is a seed never used for training. Run them with 'meshpilot evaluate --scenarios DIR'.",
  ].join('\n'),
  flags: async () => (await import('../../training/generate/generate-main.ts')).GENERATE_FLAGS,
  run: async (args) => {
    if (args[0] !== 'generate') throw new ConfigError(`scenarios: expected "generate", got ${args[0] === undefined ? 'nothing' : `"${args[0]}"`}`);
    return (await import('../../training/generate/generate-main.ts')).runGenerate(args.slice(1));
  },
};
