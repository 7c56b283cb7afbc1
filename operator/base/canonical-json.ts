// Equality of JSON data, not of its spelling: status is written only when it would change, and
// an intent is a new decision only when it configures something new, so both compare values
// whose key order (and absent members) must not matter.

function canonical(value: unknown, dropNull: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, dropNull));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && !(dropNull && v === null)) out[key] = canonical(v, dropNull);
    }
    return out;
  }
  return value;
}

/**
 * The JSON text of `value` with object keys sorted and undefined members left out (null
 * members too with `dropNull`, as a merge patch stores nothing for them): two values holding
 * the same data give the same text. Array order counts.
 */
export function canonicalJson(value: unknown, options: { dropNull?: boolean } = {}): string {
  return JSON.stringify(canonical(value, options.dropNull ?? false));
}
