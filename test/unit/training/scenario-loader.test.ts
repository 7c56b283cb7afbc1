import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../operator/base/errors.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';
import { loadScenario, loadScenarios, parseScenario } from '../../../training/sim/scenario-loader.ts';

const SHIPPED = fileURLToPath(new URL('../../../training/scenarios', import.meta.url));

const VALID = `
name: tiny
episode: { durationSec: 60, decisionIntervalSec: 10 }
regions:
  - { name: a, capacityRps: 100, medianLatencyMs: 10, clientRps: 50 }
  - { name: b, capacityRps: 100, medianLatencyMs: 10 }
`;

function errorOf(text: string, file = 'training/scenarios/test.yaml'): string {
  try {
    parseScenario(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('scenario files', () => {
  it('fills the documented defaults', () => {
    const s = parseScenario(VALID, 'tiny.yaml');
    expect(s.file).toBe('tiny.yaml');
    expect(s.episode.tickSec).toBe(1);
    expect(s.route.objectives).toEqual({ latencyP99Ms: 250, maxErrorRate: 0.01, crossRegionCostWeight: 0.1 });
    expect(s.route.retries.attempts).toEqual({ min: 0, max: 3 });
    expect(s.telemetry).toEqual({ windowSec: 60, staleAfterSec: 60, noise: 0.02, healthChecks: true, regions: [] });
    expect(s.regions[1]).toMatchObject({ priority: 0, weight: 100, latencySigma: 0.5, clientRps: 0 });
    expect(s.events).toEqual([]);
  });

  it('names the file and the path of an impossible value, with the value', () => {
    const text = VALID.replace('{ name: b, capacityRps: 100', '{ name: b, capacityRps: -5');
    expect(errorOf(text, 'training/scenarios/brownout.yaml')).toBe('training/scenarios/brownout.yaml: regions[1].capacityRps: must be at least 0.001, got -5');
  });

  it('names the file and the path of an unknown field, however deep', () => {
    expect(errorOf(`${VALID}extra: 1\n`)).toBe('training/scenarios/test.yaml: extra: unknown field');
    const deep = VALID.replace('episode: { durationSec: 60, decisionIntervalSec: 10 }', 'episode: { durationSec: 60, decisionIntervalSec: 10, tickMs: 5 }');
    expect(errorOf(deep)).toBe('training/scenarios/test.yaml: episode.tickMs: unknown field');
    const inEvent = `${VALID}events:\n  - { kind: outage, region: a, startSec: 10, durationSec: 5, severity: 3 }\n`;
    expect(errorOf(inEvent)).toBe('training/scenarios/test.yaml: events[0].severity: unknown field');
  });

  it('lists every problem at once, one per line', () => {
    const text = VALID.replace('capacityRps: 100, medianLatencyMs: 10, clientRps: 50', 'capacityRps: 0, medianLatencyMs: ten, clientRps: 50').replace('durationSec: 60', 'durationSec: 65');
    const lines = errorOf(text).split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'training/scenarios/test.yaml: regions[0].capacityRps: must be at least 0.001, got 0',
        'training/scenarios/test.yaml: regions[0].medianLatencyMs: must be a number, got "ten"',
      ]),
    );
    expect(lines).toHaveLength(2);
  });

  it('refuses what cannot happen: unknown regions, unknown event kinds, bad ranges, missing fields', () => {
    expect(errorOf(`${VALID}events:\n  - { kind: outage, region: c, startSec: 10, durationSec: 5 }\n`)).toBe('training/scenarios/test.yaml: events[0].region: unknown region "c"');
    expect(errorOf(`${VALID}events:\n  - { kind: meteor, region: a, startSec: 10, durationSec: 5 }\n`)).toMatch(/events\[0\]\.kind: must have kind brownout, outage/);
    expect(errorOf(`${VALID}events:\n  - { kind: flap, region: a, startSec: 0, durationSec: 50, periodSec: 10, downSec: 10 }\n`)).toBe(
      'training/scenarios/test.yaml: events[0].downSec: must be < periodSec, got 10',
    );
    expect(errorOf(`${VALID}events:\n  - { kind: outage, region: a, startSec: 60, durationSec: 5 }\n`)).toMatch(/events\[0\]\.startSec: must be before the end of the episode/);
    expect(errorOf(`${VALID}route:\n  retries:\n    attempts: { min: 3, max: 1 }\n`)).toBe('training/scenarios/test.yaml: route.retries.attempts.min: min must be <= max (attempts), got 3');
    expect(errorOf(VALID.replace('durationSec: 60', 'durationSec: 65'))).toMatch(/episode\.durationSec: must be a whole number of decision intervals/);
    expect(errorOf(VALID.replace('  - { name: b, capacityRps: 100, medianLatencyMs: 10 }\n', '  - { name: a, capacityRps: 100, medianLatencyMs: 10 }\n'))).toMatch(
      /regions\[1\]\.name: duplicates regions\[0\]\.name "a"/,
    );
    expect(errorOf(VALID.replace('name: tiny\n', ''))).toBe('training/scenarios/test.yaml: name: is required');
    expect(errorOf('name: [unclosed')).toMatch(/^training\/scenarios\/test\.yaml: not valid YAML/);
    expect(errorOf('- a list')).toBe('training/scenarios/test.yaml: (top level): must be a mapping of scenario fields');
  });

  it('reads a directory, naming every bad file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshpilot-scenarios-'));
    try {
      await writeFile(join(dir, 'good.yaml'), VALID);
      await writeFile(join(dir, 'bad.yaml'), `${VALID}oops: true\n`);
      await writeFile(join(dir, 'notes.txt'), 'not a scenario');
      await expect(loadScenarios(dir)).rejects.toThrow(`${join(dir, 'bad.yaml')}: oops: unknown field`);
      await rm(join(dir, 'bad.yaml'));
      expect((await loadScenarios(dir)).map((s) => s.name)).toEqual(['tiny']);
      await expect(loadScenario(join(dir, 'absent.yaml'))).rejects.toThrow(/absent\.yaml: cannot read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ships the documented suite, every file valid and runnable', async () => {
    const scenarios = await loadScenarios(SHIPPED);
    expect(scenarios.map((s) => s.name).sort()).toEqual([
      'brownout',
      'diurnal',
      'flapping-region',
      'flash-crowd',
      'latency-spike',
      'mixture-outage-storm',
      'mixture-peak-brownout',
      'regional-outage',
      'retry-storm',
    ]);
    const kinds = new Set(scenarios.flatMap((s) => s.events.map((e) => e.kind)));
    expect([...kinds].sort()).toEqual(['brownout', 'errorBurst', 'flap', 'flashCrowd', 'latencySpike', 'outage', 'staleTelemetry']);
    for (const s of scenarios) {
      expect(s.regions.length).toBeGreaterThanOrEqual(2);
      expect(s.regions.length).toBeLessThanOrEqual(4);
      const env = new MeshSimEnv(s);
      const o = env.reset(1);
      expect(o.regions).toHaveLength(s.regions.length);
      expect(env.episodeSteps).toBe(s.episode.durationSec / s.episode.decisionIntervalSec);
    }
    expect(scenarios.find((s) => s.name === 'diurnal')!.load.diurnal).toBeDefined();
  });
});
