// `npm run bench -- telemetry [--quick]`: the three figures of the telemetry issue.
//
//   kafkaEventsPerSec   request events per second from the broker (librdkafka's mock cluster
//                       driven by a small C harness over Debian's librdkafka) into the
//                       window store, one KafkaSource consumer
//                       (test/bench/telemetry/kafka.ts). Goal: >= 100,000/s.
//   promSnapshotP99Ms   time from the start of a route's Prometheus query round to its
//                       snapshot, 100 routes × 3 regions against Debian's prometheus
//                       (test/bench/telemetry/prometheus.ts).
//   bytesPerWindow      retained heap per (route, region) window fed by request events in
//                       every slot; detail.bytesPerWindowSamplesOnly for windows fed by
//                       Prometheus or scrape samples (test/bench/telemetry/window-memory.ts).
//
// The last line on stdout is {"bench":"telemetry","kafkaEventsPerSec":…,"promSnapshotP99Ms":…,"bytesPerWindow":…,…}.
import type { BenchOptions, BenchResult } from './support/types.ts';
import { benchKafka } from './telemetry/kafka.ts';
import { benchPrometheus } from './telemetry/prometheus.ts';
import { benchWindowMemory } from './telemetry/window-memory.ts';

const GOAL_KAFKA_EVENTS_PER_SEC = 100_000;

export async function run(options: BenchOptions): Promise<BenchResult> {
  const { quick, log } = options;
  log('window memory');
  const memory = benchWindowMemory({ quick });
  log(`bytes per window: ${memory.bytesPerWindow} (events), ${memory.bytesPerWindowSamplesOnly} (samples only)`);
  options.signal.throwIfAborted();
  log('kafka: broker to window store');
  const kafka = await benchKafka({ quick });
  log(`kafka: ${Math.round(kafka.kafkaEventsPerSec)} events/s over ${kafka.events} events`);
  options.signal.throwIfAborted();
  log('prometheus: query to snapshot, 100 routes × 3 regions');
  const prometheus = await benchPrometheus({ quick });
  log(`prometheus: p99 ${prometheus.promSnapshotP99Ms} ms (burst p99 ${prometheus.promSnapshotBurstP99Ms} ms)`);
  return {
    bench: 'telemetry',
    kafkaEventsPerSec: Math.round(kafka.kafkaEventsPerSec),
    promSnapshotP99Ms: prometheus.promSnapshotP99Ms,
    bytesPerWindow: memory.bytesPerWindow,
    goals: { kafkaEventsPerSec: GOAL_KAFKA_EVENTS_PER_SEC, kafkaEventsPerSecMet: kafka.kafkaEventsPerSec >= GOAL_KAFKA_EVENTS_PER_SEC },
    results: [{ kafka }, { prometheus }, { memory }],
  };
}
