// The subset of kubectl's JSONPath that CRD printer columns use: `.a.b`, `['a.b']`, `[0]`,
// `[-1]`, `[*]`, `.*`, and filters `[?(@.type=="Ready")]` (==, !=, <, <=, >, >=, or a bare
// `@.field` for existence). An optional `{...}` wrapper is accepted. Missing keys yield no
// result rather than an error, as kube-apiserver's table convertor allows missing keys.
import { isObject } from '../base/plain-value.ts';
import { ConfigError } from '../base/errors.ts';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: Step[]; op?: '==' | '!=' | '<' | '<=' | '>' | '>='; literal?: string | number | boolean };

/** A compiled JSONPath expression. */
export interface JsonPath {
  readonly source: string;
  /** Every value the path selects, in document order. */
  find(data: unknown): unknown[];
}

function parseLiteral(raw: string): string | number | boolean {
  const t = raw.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  const n = Number(t);
  if (t !== '' && Number.isFinite(n)) return n;
  throw new ConfigError(`unrecognized literal ${raw}`);
}

function parseSteps(src: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      i++;
      if (src[i] === '*') {
        steps.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      let j = i;
      while (j < src.length && src[j] !== '.' && src[j] !== '[') j++;
      const name = src.slice(i, j);
      if (name === '') {
        if (j >= src.length) break; // a lone trailing '.' (or the path ".") selects the current value
        throw new ConfigError(`empty field name at ${i} in ${src}`);
      }
      steps.push({ kind: 'field', name });
      i = j;
    } else if (c === '[') {
      const close = findClosingBracket(src, i);
      const inner = src.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1).trim(), src));
      else throw new ConfigError(`unsupported subscript [${inner}] in ${src}`);
    } else if (c === '@' && i === 0) {
      i++;
    } else {
      throw new ConfigError(`unexpected ${c} at ${i} in ${src}`);
    }
  }
  return steps;
}

function findClosingBracket(src: string, open: number): number {
  let quote: string | null = null;
  let depth = 0;
  for (let j = open; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return j;
  }
  throw new ConfigError(`unclosed [ in ${src}`);
}

function parseFilter(expr: string, src: string): Step {
  const m = /^@((?:\.[^\s=!<>]+|\[[^\]]*\])*)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(expr);
  if (m) return { kind: 'filter', path: parseSteps(m[1] ?? ''), op: m[2] as '==', literal: parseLiteral(m[3] ?? '') };
  const exists = /^@((?:\.[^\s=!<>]+|\[[^\]]*\])*)$/.exec(expr);
  if (exists) return { kind: 'filter', path: parseSteps(exists[1] ?? '') };
  throw new ConfigError(`unsupported filter ?(${expr}) in ${src}`);
}

function compare(value: unknown, op: NonNullable<Extract<Step, { kind: 'filter' }>['op']>, literal: unknown): boolean {
  switch (op) {
    case '==':
      return value === literal;
    case '!=':
      return value !== literal;
    default: {
      if (typeof value !== 'number' || typeof literal !== 'number') return false;
      if (op === '<') return value < literal;
      if (op === '<=') return value <= literal;
      if (op === '>') return value > literal;
      return value >= literal;
    }
  }
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

function evaluate(steps: Step[], roots: unknown[]): unknown[] {
  let current = roots;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      switch (step.kind) {
        case 'field':
          if (isObject(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case 'index':
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case 'wildcard':
          next.push(...children(v));
          break;
        case 'filter':
          for (const item of children(v)) {
            const found = evaluate(step.path, [item]);
            if (step.op === undefined ? found.length > 0 : found.some((f) => compare(f, step.op!, step.literal))) next.push(item);
          }
          break;
      }
    }
    current = next;
  }
  return current;
}

/**
 * Compiles a JSONPath expression of the supported subset.
 * @throws ConfigError naming the unsupported part (a CRD with such a column is refused).
 */
export function compileJsonPath(expression: string): JsonPath {
  let src = expression.trim();
  if (src.startsWith('{') && src.endsWith('}')) src = src.slice(1, -1).trim();
  if (src.startsWith('$')) src = src.slice(1);
  if (src !== '' && !src.startsWith('.') && !src.startsWith('[')) throw new ConfigError(`JSONPath must start with '.' or '[': ${expression}`);
  const steps = parseSteps(src);
  return { source: expression, find: (data) => evaluate(steps, [data]) };
}
