// `meshpilot evaluate --decision-log FILE --model DIR --routes FILE`: off-policy evaluation of
// a model on what the running policy decided, and the gate it must pass to replace it (see
// ope-run.ts, shared with `meshpilot promote`). The routes file gives the AdaptiveRoutes the
// log's decisions were made for (the log does not carry them; replay rebuilds observations
// from them). Words go to stderr; the last stdout line is one JSON object: {"ope":{…}}.
import { resolve } from 'node:path';
import { flag, parseFlags, requiredString } from '../../operator/base/flags.ts';
import { loadModel } from '../../operator/policy/model/loaded-model.ts';
import { GATE_FLAGS, gateSettings, judgeModel, readGateEvidence, type GateSettings } from './ope-run.ts';
import { failure, processIo, type LineIo } from './cli-io.ts';

/** `evaluate --decision-log`'s flags: the gate's and the candidate. */
export const OPE_FLAGS = {
  model: flag(requiredString(), { arg: 'DIR', help: 'the candidate model directory' }),
  ...GATE_FLAGS,
};

export type OpeIo = LineIo;

function parse(args: string[]): GateSettings & { model: string } {
  const o = parseFlags(OPE_FLAGS, args);
  return { ...gateSettings(o), model: o.model };
}

/**
 * Runs the off-policy gate with `args`; resolves to the exit code (0 the candidate may replace the running policy, 3 it may not, 2 bad input, 1 other errors), having
 * written any error to stderr.
 */
export async function runOpe(args: string[], io: OpeIo = processIo): Promise<number> {
  let dispose = () => {};
  try {
    const a = parse(args);
    const evidence = await readGateEvidence(a);
    const model = await loadModel(resolve(a.model));
    dispose = () => model.dispose();
    return judgeModel(model, evidence, a, io).accept ? 0 : 3;
  } catch (e) {
    return failure(io, e);
  } finally {
    dispose();
  }
}
