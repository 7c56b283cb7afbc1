// The demo as `npm start` runs it, with its one-minute brownout but only one of them: while
// calm, the route holds its spec's weights; the browned-out region is drained; once the
// brownout ends it gets traffic back within a few decisions (probation, then a trickle, then
// more on the way back).
//
// The brownout lasts as long as the telemetry window (60 s), as in `npm start`. A shorter one
// never fills the window: the region's error rate then peaks at half its 30% and never reads
// as failing, and whether it was drained in time came down to whether the guard's rollback
// hold (the SLO breaks when the brownout starts, right after a decision) happened to cover the
// whole brownout: this test failed once in five full-suite runs.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JsonLinesChild, nodeBinary } from '../support/child.ts';
import { CLI } from '../support/cluster.ts';
import { debianKubectl } from '../support/kubectl.ts';

const run = promisify(execFile);
const SPEC = { 'eu-west': 50, 'us-east': 30, 'ap-south': 20 } as const;
const BROWNOUT_FOR_MS = 60_000;
/** The demo's decision interval is 10 s; the brownout's first comes 30 s after the start. */
const FIRST_BROWNOUT_MS = 30_000;

interface DemoStatus {
  weights?: { region: string; weight: number }[];
  lastDecisionTime?: string;
  lastDecisionReason?: string;
  policy?: { decidedBy?: string; guard?: { step?: number } };
}

describe('the demo route through a brownout', () => {
  let stateDir: string;
  let child: JsonLinesChild | undefined;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'meshpilot-demo-'));
  });
  afterAll(async () => {
    await child?.stop('SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  it('holds its spec while calm, drains the browned-out region, and gives it traffic back within a few decisions', async () => {
    child = new JsonLinesChild(nodeBinary, [
      CLI, 'local', '--state-dir', stateDir, '--metrics-addr', '127.0.0.1:0', '--health-addr', '127.0.0.1:0', '--xds-addr', '127.0.0.1:0', '--xds-plaintext-addr', '127.0.0.1:0',
      '--examples', 'false', '--demo-brownout-every', '300s', '--demo-brownout-for', `${BROWNOUT_FOR_MS / 1000}s`,
    ]);
    const ready = await child.waitForLine((l) => l.msg === 'control plane ready', 30_000, 'control plane ready');
    const started = await child.waitForLine((l) => l.msg === 'demo mesh started', 30_000, 'demo mesh started');
    const t0 = Date.parse(started.time as string);
    const region = started.brownoutRegion as keyof typeof SPEC;
    const status = async (): Promise<DemoStatus> => {
      const { stdout } = await run(debianKubectl(), ['--kubeconfig', ready.kubeconfig as string, 'get', 'ar', 'demo', '-o', 'json']);
      return (JSON.parse(stdout) as { status?: DemoStatus }).status ?? {};
    };
    const weightOf = (s: DemoStatus, r: string) => s.weights?.find((w) => w.region === r)?.weight;
    const until = async (done: (s: DemoStatus) => boolean, deadlineMs: number, what: string): Promise<DemoStatus> => {
      for (;;) {
        const s = await status();
        if (done(s)) return s;
        if (Date.now() > deadlineMs) throw new Error(`timed out waiting for ${what}; status: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };

    // Calm: decisions are made (by the heuristic, the model in shadow) and the spec's weights hold.
    const calm: DemoStatus[] = [];
    while (Date.now() < t0 + FIRST_BROWNOUT_MS - 3_000) {
      calm.push(await status());
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const decided = calm.filter((s) => s.lastDecisionTime !== undefined);
    expect(decided.length).toBeGreaterThan(0);
    // Each decision that left the spec, with the reason, so that a failure says what the guard saw.
    const moved = decided
      .map((s) => ({ by: s.policy?.decidedBy, weights: Object.fromEntries((s.weights ?? []).map((w) => [w.region, w.weight])), reason: s.lastDecisionReason }))
      .filter((d) => d.by !== 'heuristic' || Object.keys(d.weights).length !== 3 || Object.entries(SPEC).some(([r, w]) => d.weights[r] !== w));
    expect(moved).toEqual([]);

    // The brownout (latency ×6, 30% of calls failing): the region is drained.
    await until((s) => weightOf(s, region) === 0, t0 + FIRST_BROWNOUT_MS + BROWNOUT_FOR_MS + 30_000, `${region} drained`);
    const end = await until(() => Date.now() >= t0 + FIRST_BROWNOUT_MS + BROWNOUT_FOR_MS, Infinity, 'the brownout to end');
    const endStep = end.policy?.guard?.step ?? 0;

    // Recovered: probation, a trickle, then back towards its share, within a few decisions.
    const back = await until((s) => (weightOf(s, region) ?? 0) > 0, Date.now() + 150_000, `${region} to get traffic back`);
    expect((back.policy?.guard?.step ?? 0) - endStep).toBeLessThanOrEqual(8);
    // Past the trickle: with nothing wrong the heuristic's moves back towards the spec are
    // followed (a loaded machine may still delay the full return to spec, which backs off).
    await until((s) => (weightOf(s, region) ?? 0) > 5, Date.now() + 150_000, `${region} past the trickle, on its way back to its spec weight`);

    const exit = await child.stop('SIGTERM');
    expect(exit.code).toBe(0);
  }, 420_000);
});
