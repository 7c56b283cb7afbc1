// The telemetry side of one operator process, built from its configuration: the window store,
// one instance of each source, the Telemetry facade the controller uses and, with brokers
// configured, the Kafka decision log. main.ts owns the process; this owns the wiring of the
// pieces below it, so that main stays a list of components.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import type { DecisionLog } from './decision-log.ts';
import { telemetryMetrics } from './metrics.ts';
import { decisionLogMetrics, KafkaDecisionLog } from './kafka/kafka-decision-log.ts';
import { KafkaSource } from './kafka/kafka-source.ts';
import { kafkajsTransport } from './kafka/kafkajs-transport.ts';
import { PrometheusSource } from './prometheus/prometheus-source.ts';
import { ScrapeSource } from './scrape/scrape-source.ts';
import { Telemetry } from './telemetry.ts';
import type { SourceKind, TelemetrySource } from './types.ts';
import { WindowStore } from './window-store.ts';

export interface TelemetryStackConfig {
  /** Prometheus for routes that name no source and for prometheus blocks without a url. */
  prometheusUrl: string | undefined;
  prometheusTimeoutMs: number;
  /** Brokers for kafka blocks without brokers, and for the decision log. */
  kafkaBrokers: string[] | undefined;
  kafkaClientId: string;
  kafkaGroupId: string;
  /** Larger telemetry messages are dead-lettered. */
  kafkaMaxMessageBytes: number;
  /** Topic decisions are produced to; undefined: no decision log (no brokers, or disabled). */
  decisionLogTopic: string | undefined;
  /** Sliding window for rates and quantiles. */
  windowMs: number;
  maxClockSkewMs: number;
  scrapeTimeoutMs: number;
}

export interface TelemetryStack {
  telemetry: Telemetry;
  store: WindowStore;
  decisionLog: DecisionLog | undefined;
  /** Stops every source and flushes the decision log. */
  close(): Promise<void>;
}

export function buildTelemetry(config: TelemetryStackConfig, deps: { logger: Logger; registry: Registry; clock: Clock }): TelemetryStack {
  const { logger, registry, clock } = deps;
  const metrics = telemetryMetrics(registry);
  const store = new WindowStore({ clock, metrics, registry, logger, windowMs: config.windowMs, maxClockSkewMs: config.maxClockSkewMs });
  const transport = kafkajsTransport({ logger });
  const sources: Partial<Record<SourceKind, TelemetrySource>> = {
    kafka: new KafkaSource({
      sink: store,
      clock,
      logger,
      metrics,
      transport,
      ...(config.kafkaBrokers ? { defaultBrokers: config.kafkaBrokers } : {}),
      groupId: config.kafkaGroupId,
      clientId: config.kafkaClientId,
      maxMessageBytes: config.kafkaMaxMessageBytes,
      maxClockSkewMs: config.maxClockSkewMs,
      windowMs: config.windowMs,
    }),
    prometheus: new PrometheusSource({
      sink: store,
      clock,
      logger,
      metrics,
      ...(config.prometheusUrl ? { defaultUrl: config.prometheusUrl } : {}),
      windowMs: config.windowMs,
      timeoutMs: config.prometheusTimeoutMs,
    }),
    scrape: new ScrapeSource({ sink: store, logger, metrics, clock, timeoutMs: config.scrapeTimeoutMs }),
  };
  // Registered whether or not a log is configured, so dashboards and alerts find the series.
  decisionLogMetrics(registry);
  const decisionLog: DecisionLog | undefined =
    config.decisionLogTopic && config.kafkaBrokers
      ? new KafkaDecisionLog({
          transport: transport({ brokers: config.kafkaBrokers, clientId: config.kafkaClientId }),
          topic: config.decisionLogTopic,
          registry,
          logger,
          clock,
        })
      : undefined;
  const telemetry = new Telemetry({
    store,
    sources,
    defaultSources: config.prometheusUrl ? ['prometheus'] : [],
    clock,
    logger,
  });
  return {
    telemetry,
    store,
    decisionLog,
    close: async () => {
      await telemetry.close();
      await decisionLog?.close();
    },
  };
}
