import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseYamlDocuments } from '../../../operator/api/manifests.ts';
import { LOCAL_MODE_ANNOTATION, adaptExampleForLocal } from '../../../operator/demo/local-examples.ts';

const example = (file: string) => parseYamlDocuments(readFileSync(new URL(`../../../deploy/examples/${file}`, import.meta.url), 'utf8'), file)[0] as Record<string, unknown>;
const NOW = new Date('2026-12-07T11:42:13Z');
const none = { prometheusUrl: undefined, kafkaBrokers: undefined };
type Spec = { telemetry: Record<string, unknown>; epoch: string };
const spec = (d: Record<string, unknown>) => d.spec as Spec;
const annotation = (d: Record<string, unknown>) => ((d.metadata as { annotations?: Record<string, string> }).annotations ?? {})[LOCAL_MODE_ANNOTATION];

describe('adaptExampleForLocal', () => {
  it('removes telemetry sources that need a cluster, and says so in an annotation', () => {
    const { doc, changes } = adaptExampleForLocal(example('checkout-adaptiveroute.yaml'), none, NOW);
    expect(spec(doc).telemetry.prometheus).toBeUndefined();
    expect(spec(doc).telemetry.kafka).toBeUndefined();
    expect(spec(doc).telemetry.staleAfter).toBe('45s');
    expect(changes).toEqual([
      'removed spec.telemetry.prometheus: no Prometheus is configured (--prometheus-url)',
      'removed spec.telemetry.kafka: no Kafka brokers are configured (--kafka-brokers)',
    ]);
    expect(annotation(doc)).toBe(changes.join('; '));
    const scraped = adaptExampleForLocal(example('search-shadow-adaptiveroute.yaml'), none, NOW);
    expect(spec(scraped.doc).telemetry.scrape).toBeUndefined();
  });

  it('keeps sources whose addresses are configured, and changes nothing then', () => {
    const original = example('checkout-adaptiveroute.yaml');
    const { doc, changes } = adaptExampleForLocal(original, { prometheusUrl: 'http://127.0.0.1:9090', kafkaBrokers: ['127.0.0.1:9092'] }, NOW);
    expect(changes).toEqual([]);
    expect(doc).toEqual(original);
  });

  it('moves a contact plan\'s epoch to the start of this hour, so that its contacts lie ahead', () => {
    const { doc, changes } = adaptExampleForLocal(example('arctic-links-contactplan.yaml'), none, NOW);
    expect(spec(doc).epoch).toBe('2026-12-07T11:00:00Z');
    expect(changes[0]).toContain('moved spec.epoch from 2025-06-01T00:00:00Z to 2026-12-07T11:00:00Z');
  });
});
