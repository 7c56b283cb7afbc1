// `meshpilot train` (runTrain) on a tiny scenario: flags are checked and named, the model
// directory loads in serving and computes what the learner had, the metadata's command
// reproduces the model byte for byte, and a stopped run resumes to the same model.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_METADATA_FILE, type ModelMetadata } from '../../../operator/policy/model/format.ts';
import { loadModel, MODEL_WEIGHTS_FILE } from '../../../operator/policy/model/loaded-model.ts';
import { encodeObservation } from '../../../operator/policy/features.ts';
import { useTrainingBackend } from '../../../training/ppo/backend.ts';
import { loadCheckpoint } from '../../../training/ppo/checkpoint.ts';
import { actorMeanJs, expandLogStd } from '../../../training/ppo/region-rows.ts';
import { defaultCheckpointDir, runTrain, TRAINING_SUMMARY_FILE } from '../../../training/ppo/train-main.ts';
import { regionObs, routeObs } from '../policy/fixtures.ts';

// Two minutes of simulated time at a 10 s decision interval: 12 steps an episode.
const SCENARIO = `
name: tiny
episode: { durationSec: 120, decisionIntervalSec: 10 }
regions:
  - { name: a, capacityRps: 500, medianLatencyMs: 30, clientRps: 300, weight: 50 }
  - { name: b, capacityRps: 300, medianLatencyMs: 40, clientRps: 100, weight: 50 }
events:
  - { kind: brownout, region: a, startSec: 30, durationSec: 60, capacityFactor: 0.4 }
`;

class Capture {
  text = '';
  isTTY = false;
  onWrite: (text: string) => void = () => {};
  write(text: string): boolean {
    this.text += text;
    this.onWrite(text);
    return true;
  }
}

let dir: string;
let scenarios: string;

async function train(args: string[], signal?: AbortSignal, onStderr?: (text: string) => void) {
  const stdout = new Capture(), stderr = new Capture();
  if (onStderr) stderr.onWrite = onStderr;
  const code = await runTrain(args, { stdout, stderr, signal: signal ?? new AbortController().signal });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const tiny = (out: string, ...more: string[]) => ['--scenarios', scenarios, '--out', out, '--iterations', '3', '--episodes', '2', '--workers', '0', ...more];

beforeAll(async () => {
  await useTrainingBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'meshpilot-train-'));
  scenarios = join(dir, 'scenarios');
  await mkdir(scenarios);
  await writeFile(join(scenarios, 'tiny.yaml'), SCENARIO);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runTrain', () => {
  it('refuses bad flags with exit code 2 and a message naming the flag', async () => {
    expect(await train(['--out', join(dir, 'x')])).toMatchObject({ code: 2, stderr: expect.stringContaining('--scenarios: required') });
    expect(await train(tiny(join(dir, 'x'), '--iterations', '0'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--iterations: 0 must be a positive integer') });
    expect(await train(tiny(join(dir, 'x'), '--gamma', 'high'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--gamma: must be a number, got "high"') });
    expect(await train(tiny(join(dir, 'x'), '--hidden', '64,0'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--hidden:') });
    expect(await train(tiny(join(dir, 'x'), '--bogus', '1'))).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(await train(['--scenarios', join(dir, 'none'), '--out', join(dir, 'x')])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read the scenario directory') });
    expect(await train(tiny(join(dir, 'x'), '--generated', '5000'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--generated: "5000" is not SEED:COUNT') });
    expect(await train(tiny(join(dir, 'x'), '--generated', '5000:0'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--generated: count 0 is not an integer from 1 to 10000') });
    expect(await train(tiny(join(dir, 'x'), '--generated', '5000:3:v9'))).toMatchObject({ code: 2, stderr: expect.stringContaining('--generated: generator "v9" is not one of v1, v2') });
  });

  it('trains on generated meshes besides the directory\'s, and the metadata\'s command (negative values glued to their flags) reproduces the model', async () => {
    const out = join(dir, 'generated');
    const run = await train(tiny(out, '--generated', '4242:2', '--max-steps', '15', '--init-log-std=-1.5', '--workers', '0'));
    expect(run.code).toBe(0);
    const metadata = JSON.parse(await readFile(join(out, MODEL_METADATA_FILE), 'utf8')) as ModelMetadata;
    expect(metadata.scenarios).toEqual([join(scenarios, 'tiny.yaml'), 'gen-4242-0000.yaml', 'gen-4242-0001.yaml']);
    expect(metadata.command).toContain('--generated 4242:2:v3');
    expect(metadata.command).toContain('--init-log-std=-1.5');
    const again = join(dir, 'generated-again');
    const args = metadata.command.split(' ').slice(2).map((a) => (a === out ? again : a));
    expect((await train([...args, '--workers', '0'])).code).toBe(0);
    const bytes = (d: string) => readFile(join(d, MODEL_WEIGHTS_FILE));
    expect(Buffer.compare(await bytes(again), await bytes(out))).toBe(0);
  });

  it('writes a model that serving loads and that computes the learner’s action means, with a log line per iteration', async () => {
    const out = join(dir, 'model');
    const log = join(dir, 'train.jsonl');
    const run = await train(tiny(out, '--log', log, '--seed', '7'));
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { train: Record<string, unknown> };
    expect(summary.train).toMatchObject({ out, iterations: 3, episodes: 6, steps: 72 });
    expect(run.stderr).toContain('iteration 3/3');

    const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { iteration: number; episodes: number; update: { approxKl: number } });
    expect(lines.map((l) => l.iteration)).toEqual([1, 2, 3]);
    expect(lines.every((l) => l.episodes === 2 && Number.isFinite(l.update.approxKl))).toBe(true);

    const metadata = JSON.parse(await readFile(join(out, MODEL_METADATA_FILE), 'utf8')) as ModelMetadata;
    expect(metadata).toMatchObject({ name: 'model', seed: 7, scenarios: [join(scenarios, 'tiny.yaml')] });
    expect(metadata.command).toBe(`meshpilot train --scenarios ${scenarios} --out ${out} --seed 7 --iterations 3 --episodes 2`);
    await expect(readFile(join(out, TRAINING_SUMMARY_FILE), 'utf8')).resolves.toContain('"iteration": 3');

    const { weights } = await loadCheckpoint(defaultCheckpointDir(out));
    const model = await loadModel(out);
    try {
      const observation = encodeObservation(routeObs([regionObs('eu-west', 60), regionObs('us-east', 40, { remote: true, latencyP99Ms: 300 }), regionObs('ap-south', 0)]));
      const served = model.predict(observation, 1);
      const learned = actorMeanJs(weights.actor, observation, new Float32Array(served.length));
      served.forEach((v, i) => expect(v).toBeCloseTo(learned[i]!, 4));
      expect(metadata.actionStd).toEqual(Array.from(expandLogStd(weights.logStd), Math.exp));
    } finally {
      model.dispose();
    }
  });

  it('reproduces the model byte for byte from the command in its metadata, with rollouts in worker threads', async () => {
    const first = join(dir, 'model');
    const metadata = JSON.parse(await readFile(join(first, MODEL_METADATA_FILE), 'utf8')) as ModelMetadata;
    const again = join(dir, 'again');
    const args = metadata.command.split(' ').slice(2).map((a) => (a === first ? again : a));
    expect((await train([...args, '--workers', '2'])).code).toBe(0);
    const bytes = (d: string) => readFile(join(d, MODEL_WEIGHTS_FILE));
    expect(Buffer.compare(await bytes(again), await bytes(first))).toBe(0);
  });

  it('stops between iterations with a checkpoint, and the resumed run ends with the same model', async () => {
    const stopped = join(dir, 'stopped');
    const controller = new AbortController();
    const first = await train(tiny(stopped, '--seed', '7'), controller.signal, (t) => {
      if (t.includes('iteration 1/3')) controller.abort();
    });
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/stopped after iteration 1; continue with --resume \S+iter-000001/);
    const resumed = await train(tiny(stopped, '--seed', '7', '--resume', defaultCheckpointDir(stopped)));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('resuming after iteration 1');
    const bytes = (d: string) => readFile(join(d, MODEL_WEIGHTS_FILE));
    expect(Buffer.compare(await bytes(stopped), await bytes(join(dir, 'model')))).toBe(0);
  });
});
