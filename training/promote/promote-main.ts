// `meshpilot promote --candidate DIR --name NAME --decision-log FILE --routes FILE`: the gate
// in front of model replacement. Loads and checks the candidate, runs on it the off-policy
// gate of `meshpilot evaluate --decision-log` (ope-run.ts: the same code), and only when the
// gate accepts (or with --force) installs it as the version models/NAME links to
// (model-versions.ts), which a running operator's ModelRegistry picks up at its next
// decision. Words go to stderr; stdout carries the {"ope":…} line and, last, one
// {"promote":{…}} (or, with --recover, {"recover":{…}}) line.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../operator/base/clock.ts';
import { ConfigError } from '../../operator/base/errors.ts';
import { booleanValue, checkFlags, flag, numberValue, readFlags, requiredString } from '../../operator/base/flags.ts';
import { loadModel } from '../../operator/policy/model/loaded-model.ts';
import { MODEL_METADATA_FILE } from '../../operator/policy/model/format.ts';
import { DEFAULT_MODELS_ROOT, isModelName } from '../../operator/policy/model/registry.ts';
import { failure, processIo, type LineIo } from '../evaluate/cli-io.ts';
import { GATE_FLAGS, gateSettings, judgeModel, readGateEvidence, type GateSettings } from '../evaluate/ope-run.ts';
import type { StepHook } from './durable-steps.ts';
import { isVersionDirName, ModelVersions, type ModelFileSet } from './model-versions.ts';

const modelName = requiredString().refine(isModelName, {
  error: (issue) => `"${String(issue.input)}" is not a model name (lowercase letters, digits, "-", "." and "_", as spec.policy.modelRef.name)`,
});

/** `--recover`'s flags: only which model, and where. */
const RECOVER_FLAGS = {
  name: flag(modelName, { arg: 'NAME', help: 'the model name routes reference (spec.policy.modelRef.name)' }),
  'models-dir': flag(z.string().min(1).default(DEFAULT_MODELS_ROOT), { arg: 'DIR', help: 'where the operator finds models (its --models-dir)', defaultText: 'the models/ folder' }),
  recover: flag(booleanValue.default(false), { switch: true, help: 'only finish or clean up an interrupted promotion of NAME' }),
};

/** `meshpilot promote`'s flags. */
export const PROMOTE_FLAGS = {
  candidate: flag(requiredString(), { arg: 'DIR', help: 'the model directory to install (as meshpilot train writes it)' }),
  ...RECOVER_FLAGS,
  ...GATE_FLAGS,
  force: flag(booleanValue.default(false), { switch: true, help: 'install even when the gate rejects the candidate (it is still loaded and checked)' }),
  keep: flag(numberValue((x) => Number.isInteger(x) && x >= 1, 'a positive integer').prefault('3'), { arg: 'N', help: 'versions of NAME to keep; the new one and the one it replaces always stay' }),
};

export type PromoteIo = LineIo;

export interface PromoteOptions {
  /** Install times, which order versions for --keep (default: the system clock). */
  clock?: Clock;
  /** Called after each filesystem step of the installation (tests simulate crashes there). */
  afterStep?: StepHook;
}

interface Common {
  name: string;
  modelsDir: string;
}
type Args = (Common & { recover: true }) | (Common & GateSettings & { recover: false; candidate: string; force: boolean; keep: number });

function parse(args: string[]): Args {
  const { values } = readFlags(PROMOTE_FLAGS, args);
  if (values.recover !== undefined && checkFlags({ recover: RECOVER_FLAGS.recover }, { recover: values.recover }).recover) {
    const extra = Object.keys(values).filter((k) => values[k] !== undefined && !(k in RECOVER_FLAGS));
    if (extra.length > 0) throw new ConfigError(`--recover takes only --name and --models-dir, got --${extra.join(', --')}`);
    const o = checkFlags(RECOVER_FLAGS, values);
    return { name: o.name, modelsDir: o['models-dir'], recover: true };
  }
  const o = checkFlags(PROMOTE_FLAGS, values);
  return { name: o.name, modelsDir: o['models-dir'], ...gateSettings(o), recover: false, candidate: o.candidate, force: o.force, keep: o.keep };
}

/** The regular files at the top of the candidate directory (links followed); anything else is left behind, and said so. */
async function readCandidate(dir: string, io: LineIo): Promise<ModelFileSet> {
  const files = new Map<string, Uint8Array>();
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files.set(name, await readFile(path));
    else io.stderr(`promote: ${path} is not a file; not installed with the model`);
  }
  return files;
}

/**
 * Runs `meshpilot promote` with `args`; resolves to the exit code (0 installed or recovered, 3 rejected and nothing changed, 2 bad input, 1 other errors), having
 * written any error to stderr. A rejected candidate changes nothing on disk.
 */
export async function runPromote(args: string[], io: PromoteIo = processIo, options: PromoteOptions = {}): Promise<number> {
  let dispose = () => {};
  try {
    const a = parse(args);
    const store = new ModelVersions(a.modelsDir, a.name, options);
    if (a.recover) {
      const r = await store.recover();
      for (const path of r.removed) io.stderr(`promote: removed ${path}, left by an interrupted promotion`);
      if (r.finished !== null) io.stderr(`promote: finished the interrupted promotion: ${store.path} now links to ${r.finished}`);
      if (r.finished === null && r.removed.length === 0) io.stderr(`promote: nothing to recover for ${a.name}`);
      io.stdout(JSON.stringify({ recover: { name: a.name, serving: (await store.serving()).version, finished: r.finished } }));
      return 0;
    }

    const candidate = resolve(a.candidate);
    const model = await loadModel(candidate);
    dispose = () => model.dispose();
    const version = model.metadata.version;
    if (!isVersionDirName(version)) {
      throw new ConfigError(`${join(candidate, MODEL_METADATA_FILE)} version: "${version}" cannot name a version directory (letters, digits, ".", "_", "+" and "-", starting with a letter or digit)`);
    }
    if (model.metadata.name !== a.name) io.stderr(`promote: note: the candidate's ${MODEL_METADATA_FILE} names it "${model.metadata.name}"; it is installed as "${a.name}"`);
    const { accept } = judgeModel(model, await readGateEvidence(a), a, io);
    dispose();
    dispose = () => {};
    const result = (from: string | null, installed: boolean) => JSON.stringify({ promote: { name: a.name, from, to: version, accepted: accept, installed } });

    if (!accept && !a.force) {
      const from = (await store.serving()).version;
      io.stderr(`promote: the gate rejected ${version}; nothing changed (${a.name} serves ${from ?? 'no model'})`);
      io.stdout(result(from, false));
      return 3;
    }
    if (!accept) io.stderr(`promote: WARNING: --force: installing ${version} as ${a.name} although the off-policy gate REJECTED it`);

    const files = await readCandidate(candidate, io);
    const recovered = await store.recover();
    if (recovered.finished !== null) io.stderr(`promote: first finished an interrupted promotion to ${recovered.finished}`);
    const from = (await store.serving()).version;
    const installed = await store.install(files, version);
    const pruned = await store.prune(a.keep, [installed.versionDir, installed.replaced]);
    io.stderr(
      `promote: ${store.path} now links to ${join(store.versions, installed.versionDir)}${installed.reused ? ' (already there, not copied again)' : ''}` +
        `${from !== null ? `, replacing ${from}` : ''}${pruned.length > 0 ? `; removed old versions ${pruned.join(', ')}` : ''}`,
    );
    io.stdout(result(from, true));
    return 0;
  } catch (e) {
    return failure(io, e, 'promote');
  } finally {
    dispose();
  }
}
