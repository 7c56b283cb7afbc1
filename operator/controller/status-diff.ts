// Status is written only when it would change: every write is a watch event, and a
// reconcile that always wrote would trigger itself forever. This module decides "changed".

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && v !== null) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * True when two status objects hold the same data: key order, and members that are
 * undefined or null (which a merge patch would not store), do not matter; array order does.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));
}
