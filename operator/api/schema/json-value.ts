// Small helpers over decoded JSON values that every pass of the validator needs: the JSON
// type of a value, deep equality, deep copy, and field paths built as the apiserver builds them.

export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** The OpenAPI type name of a decoded JSON value ("integer" for integral numbers). */
export function jsonType(value: unknown): 'null' | 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)])) as T;
  }
  return value;
}

/** field.Path.Child: "spec" + "host" -> "spec.host". */
export function childPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** field.Path.Index: "spec.destinations" + 1 -> "spec.destinations[1]". */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** field.Path.Key: "spec.labels" + "a" -> "spec.labels[a]". */
export function keyPath(path: string, key: string): string {
  return `${path}[${key}]`;
}
