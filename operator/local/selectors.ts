// Label and field selectors as kube-apiserver parses them from `labelSelector` and
// `fieldSelector`. Label selectors support `=`, `==`, `!=`, `in`, `notin`, `key`, `!key`,
// `>` and `<`; field selectors support `=`, `==` and `!=` on the fields a kind declares.
import { badRequest } from './status.ts';

export type LabelRequirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

// Qualified label keys (optional DNS prefix, then a name of at most 63 characters).
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, whole: string): string {
  if (!LABEL_KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value: "${value}" in "${whole}"`);
  return value;
}

/**
 * Parses a label selector string; an empty string selects everything.
 * @throws ApiError 400 on a malformed selector, as the real server does.
 */
export function parseLabelSelector(selector: string | null | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((req): LabelRequirement => {
    let m = /^!\s*([^\s!=<>(),]+)$/.exec(req);
    if (m) return { key: checkKey(m[1] ?? '', req), op: 'notexists' };
    m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(req);
    if (m) {
      const values = (m[3] ?? '').split(',').map((v) => checkValue(v.trim(), req));
      return { key: checkKey(m[1] ?? '', req), op: m[2] === 'in' ? 'in' : 'notin', values };
    }
    m = /^([^\s!=<>(),]+)\s*(==|=|!=)\s*([^\s!=<>(),]*)$/.exec(req);
    if (m) {
      const value = checkValue(m[3] ?? '', req);
      return { key: checkKey(m[1] ?? '', req), op: m[2] === '!=' ? 'notin' : 'in', values: [value] };
    }
    m = /^([^\s!=<>(),]+)\s*(>|<)\s*(-?\d+)$/.exec(req);
    if (m) return { key: checkKey(m[1] ?? '', req), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) };
    m = /^([^\s!=<>(),]+)$/.exec(req);
    if (m) return { key: checkKey(m[1] ?? '', req), op: 'exists' };
    throw badRequest(`unable to parse requirement: found '${req}', expected: !, identifier, or 'end of string'`);
  });
}

/** True when `labels` satisfy every requirement. */
export function matchesLabels(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(v ?? '');
      case 'notin':
        return !has || !r.values.includes(v ?? '');
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v ?? '')) return false;
        return r.op === 'gt' ? Number(v) > r.value : Number(v) < r.value;
      }
    }
  });
}

/**
 * Parses a field selector. Every field must be one the kind supports.
 * @throws ApiError 400 `field label not supported: x` for an unknown field.
 */
export function parseFieldSelector(selector: string | null | undefined, supported: ReadonlySet<string>): FieldRequirement[] {
  if (!selector) return [];
  return splitTopLevel(selector).map((req) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${req}'`);
    const field = (m[1] ?? '').trim();
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: (m[3] ?? '').trim() };
  });
}

/** True when the object's field values satisfy every requirement. */
export function matchesFields(requirements: FieldRequirement[], fields: (field: string) => string): boolean {
  return requirements.every((r) => (fields(r.field) === r.value) === (r.op === 'eq'));
}
