// Telemetry end to end: `meshpilot run` with --prometheus-url and --kafka-brokers against a
// real Prometheus (scraping prom-client backends in two regions) and librdkafka's mock Kafka
// cluster. A route naming no source reads the operator's Prometheus; a route naming a topic
// reads request events from it. Both turn TelemetryFresh; when the events stop, the Kafka
// route turns TelemetryStale naming the source, regions and age; a malformed event is
// dead-lettered; every decision is produced to the decision log topic.
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { AdaptiveRoute } from '../../operator/api/types.ts';
import { TELEMETRY_SCHEMA } from '../../operator/telemetry/kafka/events.ts';
import { useE2e } from '../support/e2e.ts';
import { startKcatCluster, type KafkaCluster } from '../support/kafka.ts';
import { MetricsBackend, PrometheusServer } from '../support/prometheus.ts';
import { condition, route } from '../support/routes.ts';

const REGIONS = ['eu-west', 'us-east'];
const TOPIC = 'e2e.requests';
const DECISIONS = 'e2e.decisions';

describe('telemetry end to end', () => {
  let kafka: KafkaCluster;
  let prometheus: PrometheusServer;
  const backends: MetricsBackend[] = [];
  let producer: Producer;
  let consumer: Consumer | undefined;
  let pump: NodeJS.Timeout | undefined;
  const e2e = useE2e('telemetry');

  beforeAll(async () => {
    kafka = await startKcatCluster(1);
    for (let i = 0; i < REGIONS.length; i++) backends.push(await MetricsBackend.start({ 'prom-route': { kind: 'grpc', rps: 20, errorRate: 0.05, latencyMs: 40 } }));
    prometheus = await PrometheusServer.start({
      targets: backends.map((b, i) => ({ address: b.address, labels: { region: REGIONS[i]!, service: 'prom-route' } })),
    });
    const client = new Kafka({ brokers: kafka.brokers, clientId: 'e2e-test', logLevel: logLevel.NOTHING });
    producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
    await producer.connect();
    consumer = client.consumer({ groupId: 'e2e-decision-reader' });
  }, 60_000);

  afterAll(async () => {
    if (pump) clearInterval(pump);
    await consumer?.disconnect();
    await producer?.disconnect();
    await prometheus?.stop();
    await Promise.all(backends.map((b) => b.close()));
    await kafka?.stop();
  });

  const fresh = (r: AdaptiveRoute) => condition(r, 'TelemetryFresh');

  it('reads Prometheus and Kafka, reports freshness and staleness, dead-letters bad events and logs decisions', async () => {
    const namespace = e2e.cluster.namespace;
    const operator = e2e.start('telemetry', {
      extraArgs: ['--prometheus-url', prometheus.url, '--kafka-brokers', kafka.bootstrap, '--decision-log-topic', DECISIONS],
    });
    const policy = { mode: 'static', decisionInterval: '1s' };
    await e2e.routes.create(route('prom-route', namespace, { 'eu-west': 50, 'us-east': 50 }, { policy, telemetry: { staleAfter: '10s' } }));
    await e2e.routes.create(
      route('kafka-route', namespace, { 'eu-west': 70, 'us-east': 30 }, { policy, telemetry: { kafka: { topic: TOPIC }, staleAfter: '3s' } }),
    );
    // Nothing produced yet: awaiting, never "fresh zeros".
    await e2e.routes.waitFor((r) => r.metadata.name !== 'kafka-route' || fresh(r)?.reason === 'AwaitingTelemetry', 30_000, 'kafka route awaiting');

    const key = `${namespace}/kafka-route`;
    const send = async () => {
      const now = Date.now();
      await producer.send({
        topic: TOPIC,
        messages: REGIONS.flatMap((region) =>
          Array.from({ length: 10 }, (_, i) => ({
            key,
            value: JSON.stringify({ schema: TELEMETRY_SCHEMA, type: 'request', route: key, region, time: now, latencyMs: 20 + i, error: i === 0 }),
          })),
        ),
      });
    };
    await send();
    pump = setInterval(() => void send().catch(() => undefined), 300);
    await producer.send({ topic: TOPIC, messages: [{ key, value: '{"schema": "meshpilot.telemetry/v1", "type": "request", broken' }] });

    const both = await e2e.routes.waitFor((r) => fresh(r)?.status === 'True', 60_000, 'both routes TelemetryFresh');
    expect(fresh(both.find((r) => r.metadata.name === 'prom-route')!)!.message).toBe('prometheus: every region reported within staleAfter 10s');
    expect(fresh(both.find((r) => r.metadata.name === 'kafka-route')!)!.message).toBe('kafka: every region reported within staleAfter 3s');

    expect(await operator.metric('meshpilot_telemetry_events_consumed_total', { source: 'kafka' })).toBeGreaterThan(0);
    expect(await operator.metric('meshpilot_telemetry_events_consumed_total', { source: 'prometheus' })).toBeGreaterThan(0);
    await waitForMetric(operator, 'meshpilot_telemetry_events_rejected_total', { source: 'kafka', reason: 'malformed' });
    await waitForMetric(operator, 'meshpilot_telemetry_dead_letters_total', { source: 'kafka', result: 'ok' });

    // Every decision goes to the decision log, keyed by route, with what the policy saw.
    const decisions: Record<string, unknown>[] = [];
    await consumer!.connect();
    await consumer!.subscribe({ topic: DECISIONS, fromBeginning: true });
    await consumer!.run({ eachMessage: async ({ message }) => void decisions.push(JSON.parse(message.value!.toString()) as Record<string, unknown>) });
    const deadline = Date.now() + 30_000;
    while (!decisions.some((d) => d.route === key && d.schema === 'meshpilot.decision/v1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const decision = decisions.find((d) => d.route === key && d.schema === 'meshpilot.decision/v1') as {
      action: { weights: { region: string; weight: number }[] };
      observation: { regions: { region: string }[] };
      actionProbability: number;
    };
    expect(decision.action.weights).toEqual([{ region: 'eu-west', weight: 70 }, { region: 'us-east', weight: 30 }]);
    expect(decision.observation.regions.map((r) => r.region)).toEqual(REGIONS);
    expect(decision.actionProbability).toBe(1);

    // The events stop: the route goes stale, says which source, which regions and how old, and
    // a Warning event says it too.
    clearInterval(pump);
    pump = undefined;
    const [stale] = await e2e.routes.waitFor((r) => r.metadata.name !== 'kafka-route' || fresh(r)?.status === 'False', 30_000, 'kafka route stale').then((rs) =>
      rs.filter((r) => r.metadata.name === 'kafka-route'),
    );
    expect(fresh(stale!)).toMatchObject({ reason: 'TelemetryStale' });
    expect(fresh(stale!)!.message).toMatch(/^kafka: no fresh data for eu-west, us-east \(newest data \d+s old, staleAfter 3s\); decisions hold the last good intent/);
    expect(await operator.metric('meshpilot_telemetry_windows', { state: 'stale' })).toBeGreaterThanOrEqual(2);
  });
});

async function waitForMetric(operator: { metric(name: string, labels?: Record<string, string>): Promise<number> }, name: string, labels: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await operator.metric(name, labels)) === 0) {
    if (Date.now() > deadline) throw new Error(`${name}${JSON.stringify(labels)} stayed 0`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
