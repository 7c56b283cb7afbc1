// The learned policy end to end: `meshpilot run` serves a route with `modelRef: default` (the
// shipped model) in enforce mode. Request events on a real Kafka-protocol broker say that one
// region degrades (its p99 well over the objective, errors over budget, while its backend is
// slowed and fails a share of calls too); the model, behind the safety guard, moves weight
// away in bounded steps; the operator's xDS server carries each decision to a real proxyless
// gRPC client whose real RPCs follow it. Every decision goes to the decision log topic with
// the action's probability; exported to JSONL, that log is what
// `meshpilot evaluate --decision-log` scores: evaluating the running model against its own
// log must find every importance weight 1, which holds only if replay rebuilds exactly the
// observation serving encoded.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { stringify } from 'yaml';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { TELEMETRY_SCHEMA } from '../../operator/telemetry/kafka/events.ts';
import { BackendFleet } from '../support/grpc-backends.ts';
import { CLI } from '../support/cluster.ts';
import { useE2e } from '../support/e2e.ts';
import { startKcatCluster, type KafkaCluster } from '../support/kafka.ts';
import { condition, route } from '../support/routes.ts';
import { XdsClientProcess } from '../support/xds-client.ts';

const run = promisify(execFile);
const HOST = 'learned.e2e.meshpilot.test';
const TOPIC = 'e2e.learned.requests';
const DECISIONS = 'e2e.learned.decisions';
const NAME = 'learned';

/** What each region's calls look like in the events: p99 objective is 250 ms, error budget 1%. */
const HEALTHY = { latencyMs: [20, 40], errorEvery: 0 };
const DEGRADED = { latencyMs: [300, 900], errorEvery: 12 };

describe('the learned policy end to end', () => {
  const e2e = useE2e('e2e-learned');
  let kafka: KafkaCluster;
  let fleet: BackendFleet;
  let producer: Producer;
  let client: XdsClientProcess | undefined;
  let pump: NodeJS.Timeout | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshpilot-learned-'));
    kafka = await startKcatCluster(1);
    fleet = await BackendFleet.start({ perRegion: { 'eu-west': 1, 'us-east': 1 }, firstHost: 211 });
    producer = new Kafka({ brokers: kafka.brokers, clientId: 'e2e-learned', logLevel: logLevel.NOTHING }).producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
    });
    await producer.connect();
  }, 60_000);

  afterAll(async () => {
    if (pump) clearInterval(pump);
    await client?.close();
    await producer?.disconnect();
    for (const b of fleet?.backends ?? []) b.kill();
    await kafka?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function learnedRoute(): AdaptiveRoute {
    const r = route(NAME, e2e.cluster.namespace, { 'eu-west': 50, 'us-east': 50 }, {
      policy: { mode: 'enforce', modelRef: { name: 'default' }, decisionInterval: '1s', maxWeightStep: 10, minWeight: 5, returnToSpecAfter: '5s' },
      telemetry: { kafka: { topic: TOPIC }, staleAfter: '5s' },
    });
    r.spec.host = HOST;
    r.spec.destinations = fleet.backends.map((b) => ({ region: b.region, service: b.address, port: fleet.port, weight: 50 })) as typeof r.spec.destinations;
    return r;
  }

  const weightOf = (r: AdaptiveRoute, region: string) => r.status?.weights?.find((w) => w.region === region)?.weight;

  it('serves the shipped model’s decisions to a gRPC client and its decision log passes through off-policy evaluation', async () => {
    const operator = e2e.start('learned', { extraArgs: ['--kafka-brokers', kafka.bootstrap, '--decision-log-topic', DECISIONS] });
    const { xdsPlaintextPort: xdsPort } = await operator.endpoints();
    const key = `${e2e.cluster.namespace}/${NAME}`;
    const conditions: Record<string, typeof HEALTHY> = { 'eu-west': HEALTHY, 'us-east': HEALTHY };
    let seq = 0;
    const send = async () => {
      const now = Date.now();
      await producer.send({
        topic: TOPIC,
        messages: Object.entries(conditions).flatMap(([region, c]) =>
          Array.from({ length: 12 }, (_, i) => {
            seq++;
            const latencyMs = c.latencyMs[0]! + ((c.latencyMs[1]! - c.latencyMs[0]!) * i) / 11;
            return { key, value: JSON.stringify({ schema: TELEMETRY_SCHEMA, type: 'request', route: key, region, time: now, latencyMs, error: c.errorEvery > 0 && seq % c.errorEvery === 0 }) };
          }),
        ),
      });
    };
    await send();
    pump = setInterval(() => void send().catch(() => undefined), 250);
    await e2e.routes.create(learnedRoute());

    // The model is loaded and decides; the route is served to a real client.
    const [loaded] = await e2e.routes.waitFor((r) => condition(r, 'PolicyModel')?.reason === 'ModelLoaded' && r.status?.policy?.decidedBy === 'model', 60_000, 'the model to decide');
    expect(condition(loaded!, 'PolicyModel')).toMatchObject({ status: 'True' });
    expect(loaded!.status?.modelVersion).toMatch(/^default-/);
    client = await XdsClientProcess.start({ xdsPort, nodeId: 'e2e-learned-client', host: HOST, region: 'eu-west' });
    await client.waitUntil((c) => c.ok > 0 && c.failed === 0, 30_000, 'traffic through the served route');

    // us-east degrades, in the data plane and in the telemetry: the model moves weight away,
    // never more than maxWeightStep per decision, never below minWeight.
    conditions['us-east'] = DEGRADED;
    const slow = fleet.backends.find((b) => b.region === 'us-east')!;
    slow.setFaults({ latencyMs: 300, failFraction: 0.08 });
    const history: number[] = [];
    const [shifted] = await e2e.routes.waitFor(
      (r) => {
        const w = weightOf(r, 'us-east');
        if (w !== undefined && history.at(-1) !== w) history.push(w);
        return r.status?.policy?.decidedBy === 'model' && w !== undefined && w <= 20;
      },
      90_000,
      'the model to move weight away from the degraded region',
    );
    for (let i = 1; i < history.length; i++) expect(Math.abs(history[i]! - history[i - 1]!)).toBeLessThanOrEqual(10);
    expect(Math.min(...history)).toBeGreaterThanOrEqual(5);
    expect(shifted!.status?.lastDecisionReason).toMatch(/us-east/);

    // What status says is in force is what the client's RPCs do.
    await new Promise((r) => setTimeout(r, 1_500));
    const inForce = await e2e.routes.get(NAME);
    const share = weightOf(inForce, 'us-east')! / 100;
    const burst = await client.burst(600, { concurrency: 16, deadlineMs: 5_000 });
    const seen = (burst.byRegion['us-east'] ?? 0) / burst.ok;
    // Successful replies only (a failure names no region): us-east's share of them is a little
    // under its weight, as it fails 8% of its calls. Binomial spread at 600 calls is at most
    // ±0.061 (3 sigma at p = 0.5); a decision landing mid-burst moves the share by one step (0.10).
    expect(Math.abs(seen - share)).toBeLessThan(0.17);
    expect(seen).toBeLessThan(0.4);

    // us-east recovers: the weight the floor kept probing it with shows it healthy. Left to
    // itself the model keeps it at the floor (nothing in its reward says to move back); the
    // route asks for returnToSpecAfter, so after 5 s of calm the guard steers back to the
    // spec's 50/50, again in bounded steps.
    conditions['us-east'] = HEALTHY;
    slow.setFaults({ latencyMs: 0, failFraction: 0 });
    const back: number[] = [];
    await e2e.routes.waitFor(
      (r) => {
        const w = weightOf(r, 'us-east');
        if (w !== undefined && back.at(-1) !== w) back.push(w);
        return w === 50;
      },
      90_000,
      'the guard to return the recovered region to its spec weight',
    );
    for (let i = 1; i < back.length; i++) expect(Math.abs(back[i]! - back[i - 1]!)).toBeLessThanOrEqual(10);
    const home = await e2e.routes.get(NAME);
    expect(home.status?.policy?.rules).toContain('ReturnToSpec');

    // The policy's metrics say the same.
    expect(await operator.metric('meshpilot_policy_decisions_total', { mode: 'enforce', decided_by: 'model', applied: 'true' })).toBeGreaterThan(0);
    expect(await operator.metric('meshpilot_policy_guard_interventions_total', { rule: 'ReturnToSpec' })).toBeGreaterThan(0);
    expect(await operator.metric('meshpilot_policy_model_info', { model: 'default', version: loaded!.status!.modelVersion! })).toBe(1);

    // The decision log, exported to JSONL (what `kcat -C -e` of the topic gives), through
    // off-policy evaluation.
    const log = join(dir, 'decisions.jsonl');
    await writeFile(log, (await readTopic(kafka, DECISIONS)).join('\n') + '\n');
    const routesFile = join(dir, 'routes.yaml');
    await writeFile(routesFile, stringify(inForce));
    const ope = await run(process.execPath, [CLI, 'evaluate', '--decision-log', log, '--routes', routesFile, '--model', 'models/default'], { maxBuffer: 64 * 1024 * 1024 }).catch(
      (e: { code: number; stdout: string; stderr: string }) => {
        if (e.code !== 3) throw new Error(`meshpilot evaluate exited ${e.code}: ${e.stderr}`);
        return e;
      },
    );
    const result = JSON.parse(ope.stdout.trim().split('\n').at(-1)!) as {
      ope: { samples: number; effectiveSampleSize: number; current: { value: number }; ips: { value: number }; dr: { value: number }; gate: { accept: boolean; reasons: string[] } };
    };
    expect(result.ope.samples).toBeGreaterThanOrEqual(10);
    // The candidate is the logging policy: every importance weight is 1, so the effective
    // sample size is the sample count and IPS is the on-policy mean.
    expect(result.ope.effectiveSampleSize).toBeCloseTo(result.ope.samples, 3);
    expect(result.ope.ips.value).toBeCloseTo(result.ope.current.value, 6);
    expect(Number.isFinite(result.ope.dr.value)).toBe(true);
    expect(typeof result.ope.gate.accept).toBe('boolean');
  }, 240_000);
});

/** Every message value on `topic` from the beginning, in partition order, once the topic is drained. */
async function readTopic(kafka: KafkaCluster, topic: string): Promise<string[]> {
  const client = new Kafka({ brokers: kafka.brokers, clientId: 'e2e-learned-export', logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const values: string[] = [];
  const consumer = client.consumer({ groupId: `e2e-learned-export-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    const deadline = Date.now() + 30_000;
    while (values.length < total) {
      if (Date.now() > deadline) throw new Error(`read ${values.length} of ${total} records of ${topic}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return values;
}
