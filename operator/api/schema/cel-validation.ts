// Evaluation of x-kubernetes-validations rules over a value, as the apiextensions-apiserver's
// CEL validator does it: each rule runs with `self` bound to its node (null nodes are
// skipped); a transition rule (one that reads `oldSelf`) runs only on update, when the node
// can be matched with its old value (through object properties, map keys and the keys of
// list-type map items); a rule that fails to compile or to evaluate becomes an issue, never a
// throw. The apiserver's cost budget is not modelled.

import { celEnvironment, celOptionalOldSelfEnvironment } from './cel-library.ts';
import { toCelValue } from './cel-values.ts';
import { invalid, withValueWord } from './field-errors.ts';
import { childPath, deepEqual, indexPath, isObject, keyPath } from './json-value.ts';
import type { FieldIssue, JSONSchemaProps, ValidationRule } from './schema-types.ts';
import { Optional } from '@marcbachmann/cel-js';

type Program = (context: Record<string, unknown>) => unknown;

interface CompiledRule {
  program?: Program;
  error?: string;
  usesOldSelf: boolean;
  messageProgram?: Program;
  /** The rule's fieldPath relative to its node, as a field.Path suffix (".a.b", "[k]"). */
  fieldPathSuffix?: string;
}

const compiled = new WeakMap<ValidationRule, WeakMap<JSONSchemaProps, CompiledRule>>();

/** True when `schema` or any node below it carries x-kubernetes-validations. */
export function hasCelRules(schema: JSONSchemaProps | undefined): boolean {
  if (!schema) return false;
  if (schema['x-kubernetes-validations']?.length) return true;
  if (schema.allOf?.some(hasCelRules)) return true;
  if (hasCelRules(schema.items)) return true;
  if (typeof schema.additionalProperties === 'object' && hasCelRules(schema.additionalProperties)) return true;
  return Object.values(schema.properties ?? {}).some(hasCelRules);
}

/**
 * Issues from every rule under `schema` that does not hold for `value` (and `oldValue` for
 * transition rules). Never throws.
 */
export function validateCel(
  schema: JSONSchemaProps,
  value: unknown,
  oldValue: unknown,
  path: string,
  isResourceRoot: boolean,
): FieldIssue[] {
  const out: FieldIssue[] = [];
  walk(schema, value, oldValue, path, isResourceRoot, out);
  return out;
}

function walk(s: JSONSchemaProps, v: unknown, old: unknown, path: string, isRoot: boolean, out: FieldIssue[]): void {
  if (v === null || v === undefined) return;
  const oldValue = old === null ? undefined : old;
  const rules = [...(s['x-kubernetes-validations'] ?? []), ...(s.allOf ?? []).flatMap((b) => b['x-kubernetes-validations'] ?? [])];
  if (rules.length > 0) {
    const node = new NodeValues(s, v, oldValue, isRoot);
    for (const rule of rules) evaluate(rule, s, node, path, out);
  }
  if (Array.isArray(v)) {
    const items = s.items;
    if (!items) return;
    const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
    const oldItems = Array.isArray(oldValue) ? oldValue : [];
    v.forEach((item, i) => {
      const oldItem = keys ? oldItems.find((o) => sameKeys(o, item, keys)) : undefined;
      walk(items, item, oldItem, indexPath(path, i), !!items['x-kubernetes-embedded-resource'], out);
    });
  } else if (isObject(v)) {
    const oldObject = isObject(oldValue) ? oldValue : undefined;
    const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
    if (extra) {
      const correlated = s['x-kubernetes-map-type'] !== 'atomic';
      for (const [k, child] of Object.entries(v)) {
        if (s.properties && Object.hasOwn(s.properties, k)) continue;
        walk(extra, child, correlated ? oldObject?.[k] : undefined, keyPath(path, k), !!extra['x-kubernetes-embedded-resource'], out);
      }
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (Object.hasOwn(v, k)) walk(sub, v[k], oldObject?.[k], childPath(path, k), !!sub['x-kubernetes-embedded-resource'], out);
    }
  }
}

/** self and oldSelf of one node, converted once for all the node's rules. */
class NodeValues {
  readonly old: unknown;
  readonly #schema: JSONSchemaProps;
  readonly #value: unknown;
  readonly #isRoot: boolean;
  #self: unknown;
  #oldSelf: unknown;

  constructor(schema: JSONSchemaProps, value: unknown, old: unknown, isRoot: boolean) {
    this.#schema = schema;
    this.#value = value;
    this.old = old;
    this.#isRoot = isRoot;
  }

  get self(): unknown {
    this.#self ??= toCelValue(this.#value, this.#schema, this.#isRoot);
    return this.#self;
  }

  get oldSelf(): unknown {
    this.#oldSelf ??= toCelValue(this.old, this.#schema, this.#isRoot);
    return this.#oldSelf;
  }
}

function sameKeys(a: unknown, b: unknown, keys: string[]): boolean {
  return isObject(a) && isObject(b) && keys.every((k) => deepEqual(a[k], b[k]));
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.trim();
}

function ruleErrorString(rule: ValidationRule): string {
  return rule.message?.trim() || rule.rule.trim();
}

function usesVariable(ast: unknown, name: string): boolean {
  if (Array.isArray(ast)) return ast.some((x) => usesVariable(x, name));
  if (ast && typeof ast === 'object') {
    const node = ast as { op?: unknown; args?: unknown };
    if (node.op === 'id' && node.args === name) return true;
    return usesVariable(node.args, name);
  }
  return false;
}

function compile(rule: ValidationRule, schema: JSONSchemaProps): CompiledRule {
  let bySchema = compiled.get(rule);
  if (!bySchema) compiled.set(rule, (bySchema = new WeakMap()));
  let result = bySchema.get(schema);
  if (result) return result;
  result = compileUncached(rule, schema);
  bySchema.set(schema, result);
  return result;
}

function compileUncached(rule: ValidationRule, schema: JSONSchemaProps): CompiledRule {
  const env = rule.optionalOldSelf ? celOptionalOldSelfEnvironment : celEnvironment;
  let fieldPathSuffix: string | undefined;
  if (rule.fieldPath) {
    const resolved = resolveFieldPath(rule.fieldPath, schema);
    if (resolved instanceof Error) {
      return { usesOldSelf: false, error: `fieldPath ${JSON.stringify(rule.fieldPath)}: ${resolved.message}` };
    }
    fieldPathSuffix = resolved;
  }
  let parsed;
  try {
    parsed = env.parse(rule.rule);
  } catch (e) {
    return { usesOldSelf: false, error: `compilation failed: ${firstLine(e)}` };
  }
  const check = parsed.check();
  if (!check.valid) return { usesOldSelf: false, error: `compilation failed: ${firstLine(check.error)}` };
  if (check.type !== 'bool' && check.type !== 'dyn') {
    return { usesOldSelf: false, error: `cel expression must evaluate to a bool, got ${check.type}` };
  }
  let messageProgram: Program | undefined;
  if (rule.messageExpression) {
    try {
      messageProgram = env.parse(rule.messageExpression);
    } catch {
      messageProgram = undefined;
    }
  }
  return {
    program: parsed,
    usesOldSelf: usesVariable(parsed.ast, 'oldSelf'),
    ...(messageProgram ? { messageProgram } : {}),
    ...(fieldPathSuffix !== undefined ? { fieldPathSuffix } : {}),
  };
}

function evaluate(rule: ValidationRule, s: JSONSchemaProps, node: NodeValues, path: string, out: FieldIssue[]): void {
  const typeWord = s.type ?? '';
  const c = compile(rule, s);
  if (c.error !== undefined || !c.program) {
    out.push(invalid(path, typeWord, `rule compile error: ${c.error ?? 'empty rule'}`));
    return;
  }
  const hasOld = node.old !== undefined;
  if (c.usesOldSelf && !hasOld && !rule.optionalOldSelf) return;
  const context: Record<string, unknown> = { self: node.self };
  if (rule.optionalOldSelf) context.oldSelf = hasOld ? Optional.of(node.oldSelf) : Optional.none();
  else if (c.usesOldSelf) context.oldSelf = node.oldSelf;
  let result: unknown;
  try {
    result = c.program(context);
  } catch (e) {
    const text = firstLine(e);
    const detail = /^(no such overload|found no matching overload)/i.test(text)
      ? `'${text}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(rule)}`
      : `${text} evaluating rule: ${ruleErrorString(rule)}`;
    out.push(invalid(path, typeWord, detail));
    return;
  }
  if (result === true) return;
  if (typeof result !== 'boolean') {
    out.push(invalid(path, typeWord, `rule compile error: cel expression must evaluate to a bool`));
    return;
  }
  let field = path;
  if (c.fieldPathSuffix) field = path === '' ? c.fieldPathSuffix.replace(/^\./, '') : `${path}${c.fieldPathSuffix}`;
  out.push(withValueWord(rule.reason ?? 'FieldValueInvalid', field, typeWord, message(rule, c, context)));
}

/** messageExpression when it yields a usable one-line string, else message, else the rule. */
function message(rule: ValidationRule, c: CompiledRule, context: Record<string, unknown>): string {
  if (c.messageProgram) {
    try {
      const text = c.messageProgram(context);
      if (typeof text === 'string' && text.trim() !== '' && !text.includes('\n') && text.trim().length <= 5 * 1024) {
        return text.trim();
      }
    } catch {
      // The apiserver falls back to the static message too.
    }
  }
  return rule.message?.trim() ? rule.message.trim() : `failed rule: ${ruleErrorString(rule)}`;
}

/**
 * The apiserver's ValidFieldPath: ".a.b" and "['key']" steps through declared properties and
 * map keys. Returns the field.Path suffix, or an Error saying why the path is not valid.
 */
function resolveFieldPath(jsonPath: string, root: JSONSchemaProps): string | Error {
  const tokens = jsonPath.match(/'(?:[^'\\]|\\.)*'|[.[\]]|[^.[\]']+/g) ?? [];
  let schema: JSONSchemaProps | undefined = root;
  let suffix = '';
  let i = 0;
  const step = (name: string): Error | undefined => {
    if (!schema) return new Error('does not refer to a valid field');
    if (schema.properties) {
      const next: JSONSchemaProps | undefined = Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
      if (!next) return new Error('does not refer to a valid field');
      suffix = childPath(suffix, name);
      schema = next;
    } else if (typeof schema.additionalProperties === 'object') {
      suffix = keyPath(suffix, name);
      schema = schema.additionalProperties;
    } else {
      return new Error('does not refer to a valid field');
    }
    return undefined;
  };
  while (i < tokens.length) {
    const tok = tokens[i++]!;
    if (tok === '.') {
      const name = tokens[i++];
      if (name === undefined || name === '.' || name === '[' || name === ']') return new Error('unexpected end of JSON path');
      const err = step(name);
      if (err) return err;
    } else if (tok === '[') {
      const quoted = tokens[i++];
      if (!quoted || quoted.length < 2 || !quoted.startsWith("'") || !quoted.endsWith("'")) {
        return new Error(`expected single quoted string but got ${quoted ?? 'end of path'}`);
      }
      const err = step(quoted.slice(1, -1).replace(/\\(.)/g, '$1'));
      if (err) return err;
      if (tokens[i++] !== ']') return new Error('expected ]');
    } else {
      return new Error(`expected [ or . but got: ${tok}`);
    }
  }
  // Child("a.b") on the node's path prints as ".a.b"; a leading key prints as "[k]".
  return suffix === '' ? '' : suffix.startsWith('[') ? suffix : `.${suffix}`;
}
