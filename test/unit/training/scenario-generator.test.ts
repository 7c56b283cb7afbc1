import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { generateScenario } from '../../../training/generate/scenario-generator.ts';
import { roundTripMs, PLACES } from '../../../training/generate/geography.ts';
import { runGenerate } from '../../../training/generate/generate-main.ts';
import { loadScenarios, validateScenario } from '../../../training/sim/scenario-loader.ts';
import { MeshSimEnv } from '../../../training/sim/mesh-sim-env.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (l: string) => void out.push(l), stderr: (l: string) => void err.push(l) }, out, err };
};

describe('generateScenario', () => {
  it('draws valid, runnable meshes of 2 to 8 regions, about a third of them calm', () => {
    const sizes = new Set<number>();
    let calm = 0;
    for (let i = 0; i < 120; i++) {
      const g = generateScenario(3, i);
      const s = validateScenario(g.doc, g.file);
      sizes.add(s.regions.length);
      if (g.calm) {
        calm++;
        expect(s.events).toEqual([]);
      } else expect(s.events.length).toBeGreaterThan(0);
      const env = new MeshSimEnv(s);
      env.reset(1);
    }
    expect([...sizes].sort()).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(calm).toBeGreaterThan(20);
    expect(calm).toBeLessThan(60);
  });

  it('is deterministic per (seed, index), and sets of different seeds share no scenario', () => {
    expect(JSON.stringify(generateScenario(5, 17))).toBe(JSON.stringify(generateScenario(5, 17)));
    const a = new Set(Array.from({ length: 40 }, (_, i) => JSON.stringify({ ...generateScenario(5, i).doc, name: '', description: '' })));
    const b = Array.from({ length: 40 }, (_, i) => JSON.stringify({ ...generateScenario(6, i).doc, name: '', description: '' }));
    expect(b.filter((x) => a.has(x))).toEqual([]);
  });

  it('keeps v1 as it was: the documents the published held-out figures were measured on, pinned', () => {
    const h = createHash('sha256');
    for (let i = 0; i < 50; i++) h.update(JSON.stringify(generateScenario(1000, i, 'v1').doc));
    expect(h.digest('hex')).toBe('db8a743d7c81fbf62f7dc828a06e591e22f1918fe89ae913bf90f7590fb981a0');
  });

  it('keeps v2 as it was: the documents models/default was trained on (seed 5000), pinned', () => {
    const h = createHash('sha256');
    for (let i = 0; i < 50; i++) h.update(JSON.stringify(generateScenario(5000, i, 'v2').doc));
    expect(h.digest('hex')).toBe('9757e5bdedd1a902ebeb3434ab5f287e5031226cfd686f378d4683cbc7eb18fb');
  });

  it('v2: v1 plus autoscaling, telemetry conditions, follow-up incidents, link faults and routes without failover, every one valid', () => {
    const seen = { autoscale: 0, telemetry: 0, after: 0, link: 0, noFailover: 0 };
    for (let i = 0; i < 150; i++) {
      const g = generateScenario(7, i, 'v2');
      const s = validateScenario(g.doc, g.file);
      const v1 = validateScenario(generateScenario(7, i, 'v1').doc, g.file);
      expect(s.regions.map((r) => ({ ...r, autoscale: undefined }))).toEqual(v1.regions.map((r) => ({ ...r, autoscale: undefined })));
      if (s.regions.some((r) => r.autoscale)) seen.autoscale++;
      if (s.telemetry.regions.length > 0) seen.telemetry++;
      if (s.events.some((e) => e.after)) seen.after++;
      if (s.events.some((e) => e.kind === 'linkFault')) seen.link++;
      if (!s.route.failover.enabled) seen.noFailover++;
      if (g.calm) expect(s.events).toEqual([]);
      new MeshSimEnv(s).reset(1);
    }
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(5);
  });

  it('v3 (the default): v2 plus incidents on some pods, tail-only slowdowns and cross-region retries, every one valid and calm meshes still calm', () => {
    const seen = { partial: 0, tailOnly: 0, crossRegion: 0 };
    for (let i = 0; i < 150; i++) {
      const g = generateScenario(7, i);
      const s = validateScenario(g.doc, g.file);
      const v2 = validateScenario(generateScenario(7, i, 'v2').doc, g.file);
      expect(s.regions).toEqual(v2.regions);
      // v2's events, some of them on a share of pods, and perhaps one more at the end.
      expect(s.events.slice(0, v2.events.length).map((e) => ({ ...e, fraction: 1 }))).toEqual(v2.events.map((e) => ({ ...e, fraction: 1 })));
      const partial = s.events.filter((e) => 'fraction' in e && e.fraction < 1);
      if (partial.some((e) => e.kind !== 'latencySpike' || e.fraction > 0.05)) seen.partial++;
      if (partial.some((e) => e.kind === 'latencySpike' && e.fraction <= 0.05)) seen.tailOnly++;
      if (s.route.retries.crossRegion) seen.crossRegion++;
      expect({ ...s.route, retries: { ...s.route.retries, crossRegion: false } }).toEqual(v2.route);
      if (g.calm) expect(s.events).toEqual([]);
      new MeshSimEnv(s).reset(1);
    }
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(10);
  });

  it('derives round trips from the map', () => {
    const at = (r: string) => PLACES.find((p) => p.region === r)!;
    expect(roundTripMs(at('eu-west'), at('eu-central'))).toBeLessThan(25);
    expect(roundTripMs(at('eu-west'), at('us-east'))).toBeGreaterThan(70);
    expect(roundTripMs(at('eu-west'), at('au-east'))).toBeGreaterThan(200);
  });
});

describe('meshpilot scenarios generate', () => {
  it('writes K files the loader reads, and says what it wrote as its last JSON line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gen-'));
    dirs.push(dir);
    const t = io();
    expect(await runGenerate(['--seed', '11', '--count', '12', '--out', dir], t.io)).toBe(0);
    expect((await readdir(dir)).length).toBe(12);
    const summary = JSON.parse(t.out.at(-1)!) as { generate: { count: number; calm: number; incidents: number } };
    expect(summary.generate).toMatchObject({ count: 12 });
    expect(summary.generate.calm + summary.generate.incidents).toBe(12);
    expect((await loadScenarios(dir)).length).toBe(12);
    expect(await readFile(join(dir, 'gen-11-0000.yaml'), 'utf8')).toContain('name: gen-11-0000');
    // A second run into the same directory would mix sets: refused.
    const again = io();
    expect(await runGenerate(['--seed', '11', '--count', '2', '--out', dir], again.io)).toBe(2);
    expect(again.err.join('\n')).toContain('--out:');
  });

  it.each([
    [['--seed=-1', '--count', '2', '--out', '/tmp/x'], '--seed: must be an integer from 0 to 2147483647, got "-1"'],
    [['--seed', '1', '--count', '0', '--out', '/tmp/x'], '--count: must be an integer from 1 to 10000, got "0"'],
    [['--seed', '1', '--count', '2'], '--out: required'],
    [['--seed', '1', '--count', '2', '--out', '/tmp/x', '--regions', '3'], "Unknown option '--regions'"],
    [['--seed', '1', '--count', '2', '--out', '/tmp/x', '--generator', 'v4'], '--generator: "v4" is not one of v1, v2, v3'],
  ])('refuses %j naming the option', async (args, message) => {
    const t = io();
    expect(await runGenerate(args, t.io)).toBe(2);
    expect(t.err.join('\n')).toContain(message);
  });
});
