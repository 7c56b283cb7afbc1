// Reads scenario files: YAML in, a validated ScenarioSpec out, or a ConfigError whose every line
// names the file and the field path (`brownout.yaml: regions[1].capacityRps: must be > 0, got -5`).
// A scenario's recorded trace is read from a path relative to the scenario file and aligned to
// the episode here (a trace line's error names the trace file and the line instead).
import { readFile, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { plainValueProblem } from '../../operator/base/plain-value.ts';
import type { z } from 'zod';
import { ConfigError } from '../../operator/base/errors.ts';
import { adaptiveRouteOf } from './scenario-route.ts';
import { parseRfc3339 } from '../../operator/telemetry/kafka/timestamp.ts';
import { scenarioSchema, type ScenarioSpec } from './scenario-schema.ts';
import { parseTrace } from './trace.ts';

/** A loaded scenario and where it came from. */
export interface Scenario extends ScenarioSpec {
  /** The file it was read from ('<inline>' for text). */
  file: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describe(issue: z.core.$ZodIssue, input: unknown, file: string): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${file}: ${formatPath([...issue.path, k])}: unknown field`);
  }
  const at = formatPath(issue.path) || '(top level)';
  const value = valueAt(input, issue.path);
  const json = JSON.stringify(value);
  const shown = value === undefined || (typeof value === 'object' && value !== null) || (typeof value === 'string' && issue.message.includes(json)) ? '' : `, got ${json}`;
  return [`${file}: ${at}: ${issue.message}${shown}`];
}

/**
 * Validates a parsed document, and the AdaptiveRoute it stands for against the CRD. Throws
 * ConfigError listing every problem, one per line, each naming `file` and the field path.
 */
export function validateScenario(document: unknown, file: string): Scenario {
  const result = scenarioSchema.safeParse(document);
  if (!result.success) {
    const lines = result.error.issues.flatMap((i) => describe(i, document, file));
    throw new ConfigError(lines.join('\n'));
  }
  adaptiveRouteOf(result.data, file);
  return { ...result.data, file };
}

/**
 * `scenario` with its trace's records (`recorded`), read from `text` (the JSONL trace file
 * `traceFile`, which names it in errors) and aligned so that `trace.startAt` (default: the
 * first record of the route) is the episode's t = 0. Throws ConfigError for a bad trace line
 * (naming the trace file, the line and the field), for a `startAt` outside the trace, and for
 * an episode longer than what the trace recorded after `startAt`. Pure.
 */
export function withTrace(scenario: Scenario, text: string, traceFile: string): Scenario {
  const t = scenario.trace;
  if (!t) throw new ConfigError(`${scenario.file}: trace: the scenario names no trace`);
  const records = parseTrace(text, { file: traceFile, route: t.route, regions: scenario.regions.map((r) => r.name) });
  const iso = (ms: number) => new Date(ms).toISOString();
  let startMs = records.firstMs;
  if (t.startAt !== undefined) {
    startMs = typeof t.startAt === 'number' ? t.startAt : parseRfc3339(t.startAt);
    if (startMs < records.firstMs || startMs >= records.endMs) {
      throw new ConfigError(
        `${scenario.file}: trace.startAt: must be within what ${traceFile} recorded for ${t.route} (${iso(records.firstMs)} to ${iso(records.endMs)}), got ${JSON.stringify(t.startAt)}`,
      );
    }
  }
  const spanSec = (records.endMs - startMs) / 1000;
  if (scenario.episode.durationSec > spanSec) {
    throw new ConfigError(
      `${scenario.file}: episode.durationSec: must be at most the ${spanSec} s that ${traceFile} recorded for ${t.route} from ${iso(startMs)}, got ${scenario.episode.durationSec}`,
    );
  }
  return { ...scenario, recorded: { ...records, startMs } };
}

/**
 * Parses YAML `text` as a scenario; `file` names it in errors. Throws ConfigError. A scenario
 * that names a trace comes back without its records: loadScenario reads them (or withTrace,
 * for a trace in hand), and the simulator refuses to run it before.
 */
export function parseScenario(text: string, file = '<inline>'): Scenario {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`${file}: (top level): must be a mapping of scenario fields`);
  }
  const shape = plainValueProblem(document);
  if (shape) throw new ConfigError(`${file}: ${shape}`);
  return validateScenario(document, file);
}

/**
 * Reads and validates one scenario file, and its trace when it names one (`trace.file`,
 * relative to the scenario file). Throws ConfigError (unreadable file, bad YAML, bad field,
 * bad trace).
 */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  const scenario = parseScenario(text, file);
  if (!scenario.trace) return scenario;
  const traceFile = isAbsolute(scenario.trace.file) ? scenario.trace.file : join(dirname(file), scenario.trace.file);
  let trace: string;
  try {
    trace = await readFile(traceFile, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: trace.file: cannot read ${traceFile}: ${(e as Error).message}`, { cause: e });
  }
  return withTrace(scenario, trace, traceFile);
}

/**
 * Every `*.yaml` / `*.yml` file of `dir`, in name order. Throws ConfigError naming every bad
 * file at once (so one run shows every mistake), or when the directory holds no scenario.
 */
export async function loadScenarios(dir: string): Promise<Scenario[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new ConfigError(`${dir}: cannot read the scenario directory: ${(e as Error).message}`, { cause: e });
  }
  if (names.length === 0) throw new ConfigError(`${dir}: no scenario files (*.yaml)`);
  const scenarios: Scenario[] = [];
  const problems: string[] = [];
  for (const n of names) {
    try {
      scenarios.push(await loadScenario(join(dir, n)));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const seen = new Map<string, string>();
  for (const s of scenarios) {
    const other = seen.get(s.name);
    if (other) throw new ConfigError(`${s.file}: name: "${s.name}" is also the name of ${other}`);
    seen.set(s.name, s.file);
  }
  return scenarios;
}
