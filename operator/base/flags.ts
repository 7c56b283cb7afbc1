// The one way meshpilot's commands read their flags. Each flag is a zod schema that carries its
// own description (`flag(schema, meta)`): its name is its key in the command's shape, and its
// validation, default, help line and environment variable all come from that one place, so
// `--help` cannot drift from what is parsed. Errors name the flag (and the variable, when the
// command reads the environment) and are ConfigErrors: the command line exits 2 with them.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

export interface FlagMeta {
  /** The value's placeholder in help (DUR, ADDR, N); absent for a switch. */
  arg?: string;
  help: string;
  /** The default in words, where it is not one literal value ("$KUBECONFIG, then in-cluster"). */
  defaultText?: string;
  /** A presence flag (--force): takes no value. */
  switch?: boolean;
  short?: string;
  /** May be given more than once; the value is then a list. */
  multiple?: boolean;
}

export type FlagShape = Record<string, z.ZodType>;
export type Env = Record<string, string | undefined>;

/** `schema` described as a flag. Call it last: zod keeps the description on this schema object only. */
export function flag<T extends z.ZodType>(schema: T, meta: FlagMeta): T {
  return schema.meta({ ...meta }) as T;
}

function metaOf(name: string, schema: z.ZodType): FlagMeta {
  const meta = schema.meta() as FlagMeta | undefined;
  if (!meta?.help) throw new TypeError(`flag --${name} has no description: build it with flag()`);
  return meta;
}

/** The environment variable a flag falls back to: --lease-name → MESHPILOT_LEASE_NAME. */
export function envName(flagName: string): string {
  return `MESHPILOT_${flagName.toUpperCase().replace(/-/g, '_')}`;
}

export interface ParseOptions {
  /** Read MESHPILOT_<FLAG> for every flag not given on the command line. */
  env?: Env;
}

/**
 * The raw values of `shape`'s flags in `args` (strings, booleans for switches, lists for
 * multiple flags), each falling back to its environment variable when `options.env` is given.
 * Throws ConfigError for an unknown flag, a missing value and a stray argument.
 */
export function readFlags(shape: FlagShape, args: string[], options: ParseOptions = {}): { values: Record<string, unknown> } {
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, schema] of Object.entries(shape)) {
    const meta = metaOf(name, schema);
    parseOptions[name] = { type: meta.switch ? 'boolean' : 'string', ...(meta.short ? { short: meta.short } : {}), ...(meta.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: parseOptions, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(shape)) {
    values[name] = (parsed.values as Record<string, unknown>)[name] ?? options.env?.[envName(name)];
  }
  return { values };
}

/**
 * The value of `--name` in raw `args` (`--name V` or `--name=V`), read without parsing the
 * rest: for what must be known before the flags are parsed, or when parsing them failed.
 */
export function rawFlag(args: readonly string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
}

/** Validates raw flag values against `shape`; ConfigError lists every bad flag, naming it (and its variable). */
export function checkFlags<S extends FlagShape>(shape: S, values: Record<string, unknown>, options: ParseOptions = {}): z.output<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(values);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const name = String(i.path[0] ?? '');
    return `--${name}${options.env ? ` (or ${envName(name)})` : ''}: ${i.message}`;
  });
  throw new ConfigError(lines.length === 1 ? lines[0]! : `invalid flags:\n  ${lines.join('\n  ')}`);
}

/** Reads and validates `shape`'s flags in `args`: readFlags, then checkFlags. */
export function parseFlags<S extends FlagShape>(shape: S, args: string[], options: ParseOptions = {}): z.output<z.ZodObject<S>> {
  return checkFlags(shape, readFlags(shape, args, options).values, options);
}

function defaultOf(schema: z.ZodType): unknown {
  const def = schema.def as { type: string; defaultValue?: unknown };
  return def.type === 'default' || def.type === 'prefault' ? def.defaultValue : undefined;
}

const HELP_INDENT = 27;
const HELP_WIDTH = 100;

/** `text` wrapped at word boundaries to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** The help lines of `shape`'s flags, in its order: `--name ARG  help (default …)`, wrapped at 100 columns. */
export function flagsHelp(shape: FlagShape): string {
  return Object.entries(shape)
    .map(([name, schema]) => {
      const meta = metaOf(name, schema);
      const value = meta.switch ? undefined : defaultOf(schema);
      const shown = meta.defaultText ?? (value === undefined || value === '' ? undefined : String(value));
      const head = `  ${meta.short ? `-${meta.short}, ` : ''}--${name}${meta.arg ? ` ${meta.arg}` : ''}`;
      const help = wrap(`${meta.help}${shown !== undefined ? ` (default ${shown})` : ''}`, HELP_WIDTH - HELP_INDENT).join(`\n${' '.repeat(HELP_INDENT)}`);
      return head.length < HELP_INDENT ? `${head.padEnd(HELP_INDENT)}${help}` : `${head}\n${' '.repeat(HELP_INDENT)}${help}`;
    })
    .join('\n');
}

/** A switch or a boolean flag: true/false from the command line or the environment. */
export const booleanValue = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')], {
  error: 'must be true or false',
});

/** A flag's text: "required" when the flag is not given. */
function flagText() {
  return z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') });
}

/** A number read from a flag's text, accepted when `ok`; otherwise "must be `what`, got …". */
export function numberValue(ok: (x: number) => boolean, what: string) {
  return flagText().transform((text, ctx) => {
    const x = Number(text);
    if (text.trim() === '' || !ok(x)) {
      ctx.addIssue({ code: 'custom', message: `must be ${what}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return x;
  });
}

/** A whole number from `min` (≥ 0) to `max`, written in digits only (no 1e3, no 0x10, no sign). */
export function integerValue(min: number, max: number) {
  return flagText().transform((text, ctx) => {
    const n = Number(text);
    if (/^\d+$/.test(text) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}` });
    return z.NEVER;
  });
}

/** A flag that must be given: "required" when it is not. */
export function requiredString() {
  return flagText().min(1, 'must not be empty');
}

/** One of `values`; otherwise `"x" is not one of a, b, c`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${values.join(', ')}` });
}
