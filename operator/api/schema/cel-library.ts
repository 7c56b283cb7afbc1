// The CEL environment x-kubernetes-validations rules run in: @marcbachmann/cel-js (standard
// macros, timestamps, durations, strings, optionals) plus the Kubernetes extension functions
// it lacks that CRD rules commonly use: the list library (isSorted, sum, min, max, indexOf,
// lastIndexOf), the regex library (find, findAll) and the strings functions charAt/replace.
// Not provided: url(), ip(), cidr(), quantity(), format(), semver() and sets.*; a rule that
// calls them fails to compile and is reported as an issue.

import { Environment, EvaluationError } from '@marcbachmann/cel-js';
import { re2FindAll } from './re2.ts';

type Scalar = bigint | number | string | boolean | Date | Uint8Array;

function compare(a: Scalar, b: Scalar): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  if (typeof a === typeof b || (isNumeric(a) && isNumeric(b))) return a < b ? -1 : a > b ? 1 : 0;
  throw new EvaluationError(`no such overload: comparison of ${typeof a} and ${typeof b}`);
}

function isNumeric(x: unknown): x is bigint | number {
  return typeof x === 'bigint' || typeof x === 'number';
}

function equal(a: unknown, b: unknown): boolean {
  if (isNumeric(a) && isNumeric(b)) return typeof a === typeof b ? a === b : Number(a) === Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

function extreme(list: Scalar[], name: string, pick: (c: number) => boolean): Scalar {
  if (list.length === 0) throw new EvaluationError(`${name}(): list cannot be empty`);
  return list.reduce((best, x) => (pick(compare(x, best)) ? x : best));
}

function sum(list: unknown[]): bigint | number {
  if (list.every((x) => typeof x === 'bigint')) return (list as bigint[]).reduce((a, b) => a + b, 0n);
  if (list.every((x) => typeof x === 'number')) return (list as number[]).reduce((a, b) => a + b, 0);
  throw new EvaluationError('no such overload: sum() of mixed or non-numeric elements');
}

function findAll(text: string, pattern: string, limit: bigint): string[] {
  return re2FindAll(pattern, text, limit < 0n ? -1 : Number(limit));
}

function replace(text: string, from: string, to: string, limit: bigint): string {
  if (limit < 0n) return text.replaceAll(from, to);
  let out = text;
  let at = 0;
  for (let n = 0n; n < limit; n++) {
    const i = out.indexOf(from, at);
    if (i < 0) break;
    out = out.slice(0, i) + to + out.slice(i + from.length);
    at = i + to.length;
  }
  return out;
}

function withKubernetesLibraries(env: Environment): Environment {
  return env
    .registerFunction('list<dyn>.isSorted(): bool', (l: Scalar[]) => l.every((x, i) => i === 0 || compare(l[i - 1]!, x) <= 0))
    .registerFunction('list<dyn>.sum(): dyn', (l: unknown[]) => sum(l))
    .registerFunction('list<dyn>.min(): dyn', (l: Scalar[]) => extreme(l, 'min', (c) => c < 0))
    .registerFunction('list<dyn>.max(): dyn', (l: Scalar[]) => extreme(l, 'max', (c) => c > 0))
    .registerFunction('list<dyn>.indexOf(dyn): int', (l: unknown[], x: unknown) => BigInt(l.findIndex((e) => equal(e, x))))
    .registerFunction('list<dyn>.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => BigInt(l.findLastIndex((e) => equal(e, x))))
    .registerFunction('string.find(string): string', (s: string, p: string) => re2FindAll(p, s, 1)[0] ?? '')
    .registerFunction('string.findAll(string): list<string>', (s: string, p: string) => findAll(s, p, -1n))
    .registerFunction('string.findAll(string, int): list<string>', (s: string, p: string, n: bigint) => findAll(s, p, n))
    .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
      const chars = [...s];
      if (i < 0n || i > BigInt(chars.length)) throw new EvaluationError(`index out of range: ${i}`);
      return chars[Number(i)] ?? '';
    })
    .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => replace(s, a, b, -1n))
    .registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => replace(s, a, b, n));
}

/** As the apiserver's base environment: optional types on, mixed-type list literals allowed. */
const OPTIONS = { enableOptionalTypes: true, homogeneousAggregateLiterals: false } as const;

/** Rules see `self` and, for transition rules, `oldSelf`. */
export const celEnvironment: Environment = withKubernetesLibraries(new Environment(OPTIONS))
  .registerVariable('self', 'dyn')
  .registerVariable('oldSelf', 'dyn');

/** For rules with optionalOldSelf: `oldSelf` is an optional, empty on create. */
export const celOptionalOldSelfEnvironment: Environment = withKubernetesLibraries(new Environment(OPTIONS))
  .registerVariable('self', 'dyn')
  .registerVariable('oldSelf', 'optional<dyn>');
