// Reads scenario files: YAML in, a validated ScenarioSpec out, or a ConfigError whose every line
// names the file and the field path (`brownout.yaml: regions[1].capacityRps: must be > 0, got -5`).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../operator/api/errors.ts';
import { adaptiveRouteOf } from './scenario-route.ts';
import { scenarioSchema, type ScenarioSpec } from './scenario-schema.ts';

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

/** Parses YAML `text` as a scenario; `file` names it in errors. Throws ConfigError. */
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
  return validateScenario(document, file);
}

/** Reads and validates one scenario file. Throws ConfigError (unreadable file, bad YAML, bad field). */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  return parseScenario(text, file);
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
