// Summarises a V8 .cpuprofile (from `npm run bench -- xds --cpu-prof DIR` or node --cpu-prof):
// self and inclusive time per function and self time per file, largest first.
//   node test/bench/tools/cpu-profile-summary.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { flagValue } from '../support/stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const op = url.indexOf('/operator/');
  if (op >= 0) return url.slice(op + 1);
  const t = url.indexOf('/test/');
  if (t >= 0) return url.slice(t + 1);
  return url.replace(/^file:\/\//, '') || '(native)';
}

function key(n: ProfileNode): string {
  const f = n.callFrame;
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

export function summarise(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const leaf = byId.get(id);
    if (!leaf) return;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
    files.set(shortUrl(leaf.callFrame.url), (files.get(shortUrl(leaf.callFrame.url)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  });
  const table = (title: string, m: Map<string, number>): string =>
    [
      `${title}`,
      ...[...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${k}`),
    ].join('\n');
  return [
    `profile: ${total.toFixed(0)} ms sampled over ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms wall`,
    table('self time by function', self),
    table('inclusive time by function', inclusive),
    table('self time by file', files),
  ].join('\n\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node test/bench/tools/cpu-profile-summary.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const top = Number(flagValue(process.argv, '--top') ?? 25);
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top));
}
