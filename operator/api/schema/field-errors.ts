// Field issues worded exactly as k8s.io/apimachinery's field.Error prints them, including Go's
// way of printing the bad value (%q for strings, %v for numbers, %#v for maps and slices),
// so that what a user sees from meshpilot matches what a real apiserver would say.

import type { CauseType, FieldIssue } from './schema-types.ts';

/** The path string of a nil field.Path: what the apiserver prints for the object itself. */
export const ROOT_FIELD = '<nil>';

const TYPE_WORDS: Record<CauseType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
};

const OMIT = Symbol('omit value');

function issue(type: CauseType, field: string, value: unknown, detail: string): FieldIssue {
  let body = TYPE_WORDS[type];
  const valueless = type === 'FieldValueRequired' || type === 'FieldValueForbidden' || type === 'FieldValueTooLong';
  if (!valueless && value !== OMIT) body += `: ${goValue(value)}`;
  if (detail) body += `: ${detail}`;
  return { type, field: field === '' ? ROOT_FIELD : field, message: body };
}

export function required(field: string, detail = ''): FieldIssue {
  return issue('FieldValueRequired', field, OMIT, detail);
}

export function invalid(field: string, value: unknown, detail: string): FieldIssue {
  return issue('FieldValueInvalid', field, value, detail);
}

export function typeInvalid(field: string, value: unknown, detail: string): FieldIssue {
  return issue('FieldValueTypeInvalid', field, value, detail);
}

export function notSupported(field: string, value: unknown, validValues: string[]): FieldIssue {
  const detail = validValues.length > 0 ? `supported values: ${validValues.map(goQuote).join(', ')}` : '';
  return issue('FieldValueNotSupported', field, value, detail);
}

export function duplicate(field: string, value: unknown): FieldIssue {
  return issue('FieldValueDuplicate', field, value, '');
}

export function forbidden(field: string, detail: string): FieldIssue {
  return issue('FieldValueForbidden', field, OMIT, detail);
}

export function tooLong(field: string, maxLength: number): FieldIssue {
  return issue('FieldValueTooLong', field, OMIT, maxLength >= 0 ? `may not be longer than ${maxLength}` : 'value is too long');
}

export function tooMany(field: string, actual: number, max: number): FieldIssue {
  return issue('FieldValueTooMany', field, actual >= 0 ? actual : OMIT, max >= 0 ? `must have at most ${max} items` : 'has too many items');
}

/** An issue whose value is only named by its schema type, as the CEL validator reports it. */
export function withValueWord(type: CauseType, field: string, valueWord: string, detail: string): FieldIssue {
  if (type === 'FieldValueDuplicate') return issue(type, field, valueWord, '');
  return issue(type, field, valueWord, detail);
}

/** Go's strconv.Quote. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's %v of a decoded JSON number: an int64 when integral, otherwise a float64. */
export function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  return goFloat(n);
}

/** Go's %v of a float64: strconv's 'g' with the shortest precision (exponent past 1e+06). */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return '0';
  const [mantissa = '0', exponentText = '0'] = n.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(n);
}

/** How field.Error prints a bad value: the ErrorBody switch of apimachinery. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return goQuote('null');
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return String(value);
  return goSharpV(value);
}

/** Go's %#v of a decoded JSON value (map[string]interface {}, []interface {}, ...). */
export function goSharpV(value: unknown, nested = false): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map((v) => goSharpV(v, true)).join(', ')}}`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${goQuote(k)}:${goSharpV((value as Record<string, unknown>)[k], true)}`);
    return `map[string]interface {}{${entries.join(', ')}}`;
  }
  return nested ? String(value) : goQuote(String(value));
}
