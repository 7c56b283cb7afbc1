// One SVG per scenario: the weights two policies gave each region over time (top) and the
// route p99 they got (bottom, log scale, with the objective), event windows shaded. Written by
// hand: a plot is a few hundred elements, not worth a dependency.
import type { ScenarioEvaluation, TracePoint } from './evaluate.ts';

const W = 960, H = 560, LEFT = 64, RIGHT = 16, TOP = 40, GAP = 48;
const PANEL = (H - TOP - GAP - 40) / 2;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const DASH = ['', '6 4'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

function path(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(x)} ${fmt(y)}`).join(' ');
}

/**
 * The SVG document comparing `policies` (one or two names present in `s.traces`) on scenario
 * `s`. Throws RangeError for a policy without a trace. Pure.
 */
export function scenarioSvg(s: ScenarioEvaluation, policies: readonly string[]): string {
  const traces: TracePoint[][] = policies.map((p) => {
    const t = s.traces[p];
    if (!t) throw new RangeError(`no trace for policy "${p}" in scenario ${s.name}`);
    return t;
  });
  const end = Math.max(1, ...traces.map((t) => t.at(-1)?.timeSec ?? 0));
  const x = (sec: number) => LEFT + (sec / end) * (W - LEFT - RIGHT);
  const top1 = TOP, top2 = TOP + PANEL + GAP;
  const yWeight = (pct: number) => top1 + PANEL - (pct / 100) * PANEL;
  const p99s = traces.flat().map((p) => p.p99Ms).filter((v) => v > 0);
  const lo = Math.max(1, Math.min(s.latencyObjectiveMs / 4, ...p99s));
  const hi = Math.max(s.latencyObjectiveMs * 2, ...p99s);
  const yLat = (ms: number) => top2 + PANEL - ((Math.log(Math.max(ms, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * PANEL;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${LEFT}" y="20" font-size="15" font-weight="bold">${esc(s.name)}: ${esc(policies.join(' (solid) vs '))}${policies.length > 1 ? ' (dashed)' : ''}</text>`);
  // Labels take turns over three rows so that overlapping events stay readable.
  for (const [k, e] of s.events.entries()) {
    const x0 = x(Math.min(e.startSec, end)), x1 = x(Math.min(e.endSec, end));
    for (const top of [top1, top2]) out.push(`<rect x="${fmt(x0)}" y="${top}" width="${fmt(Math.max(1, x1 - x0))}" height="${PANEL}" fill="#f3e3c3" opacity="0.6"><title>${esc(`${e.kind} ${e.region}`)}</title></rect>`);
    out.push(`<text x="${fmt(x0 + 3)}" y="${top2 + 12 + 11 * (k % 3)}" font-size="10" fill="#8a6d3b">${esc(`${e.kind} ${e.region}`)}</text>`);
  }
  for (const [top, label] of [[top1, 'weight %'], [top2, 'route p99 ms (log)']] as const) {
    out.push(`<rect x="${LEFT}" y="${top}" width="${W - LEFT - RIGHT}" height="${PANEL}" fill="none" stroke="#999"/>`);
    out.push(`<text x="12" y="${fmt(top + PANEL / 2)}" transform="rotate(-90 12 ${fmt(top + PANEL / 2)})" text-anchor="middle">${label}</text>`);
  }
  for (const pct of [0, 25, 50, 75, 100]) {
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${fmt(yWeight(pct))}" y2="${fmt(yWeight(pct))}" stroke="#eee"/>`);
    out.push(`<text x="${LEFT - 6}" y="${fmt(yWeight(pct) + 4)}" text-anchor="end">${pct}</text>`);
  }
  for (let v = 10 ** Math.floor(Math.log10(lo)); v <= hi; v *= 10) {
    for (const m of [1, 2, 5]) {
      const ms = v * m;
      if (ms < lo || ms > hi) continue;
      out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${fmt(yLat(ms))}" y2="${fmt(yLat(ms))}" stroke="#eee"/>`);
      out.push(`<text x="${LEFT - 6}" y="${fmt(yLat(ms) + 4)}" text-anchor="end">${ms}</text>`);
    }
  }
  const slo = yLat(s.latencyObjectiveMs);
  out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${fmt(slo)}" y2="${fmt(slo)}" stroke="#000" stroke-dasharray="2 3"/>`);
  out.push(`<text x="${W - RIGHT - 4}" y="${fmt(slo - 4)}" text-anchor="end">objective ${s.latencyObjectiveMs} ms</text>`);
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const sec = (end / ticks) * i;
    out.push(`<text x="${fmt(x(sec))}" y="${H - 22}" text-anchor="middle">${Math.round(sec)}</text>`);
  }
  out.push(`<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 6}" text-anchor="middle">time (s)</text>`);
  traces.forEach((trace, k) => {
    const dash = DASH[k] ? ` stroke-dasharray="${DASH[k]}"` : '';
    s.regions.forEach((region, r) => {
      const d = path(trace.map((p) => [x(p.timeSec), yWeight(p.weights[r] ?? 0)]));
      out.push(`<path d="${d}" fill="none" stroke="${COLORS[r % COLORS.length]}" stroke-width="1.6"${dash}><title>${esc(`${policies[k]} ${region}`)}</title></path>`);
    });
    const d = path(trace.map((p) => [x(p.timeSec), yLat(p.p99Ms)]));
    out.push(`<path d="${d}" fill="none" stroke="${k === 0 ? '#222' : '#888'}" stroke-width="1.6"${dash}><title>${esc(`${policies[k]} p99`)}</title></path>`);
  });
  let lx = LEFT;
  s.regions.forEach((region, r) => {
    out.push(`<rect x="${lx}" y="${TOP - 12}" width="10" height="10" fill="${COLORS[r % COLORS.length]}"/><text x="${lx + 14}" y="${TOP - 3}">${esc(region)}</text>`);
    lx += 24 + region.length * 7;
  });
  out.push('</svg>');
  return out.join('\n');
}
