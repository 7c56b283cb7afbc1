// Limits on the shape of a value decoded from a file or a request body. YAML aliases can make
// a value that contains itself (`a: &x [*x]`), and JSON can nest arbitrarily deep; both then
// break whatever walks the value (validation, copying, JSON.stringify) with a TypeError or a
// stack overflow far from where the input came in. Checked once, right after decoding.

/** The default deepest nesting accepted (objects and arrays count one level each). */
export const MAX_NESTING = 100;

/**
 * Undefined when `value` is a tree no deeper than `maxDepth`; otherwise what is wrong with
 * it, naming the path where it goes wrong. Iterative, so its own stack cannot overflow.
 */
export function plainValueProblem(value: unknown, maxDepth = MAX_NESTING): string | undefined {
  // Depth-first with an explicit stack; `ancestors` holds the containers on the current path.
  const ancestors = new Set<object>();
  const stack: { node: unknown; path: string; depth: number; exit?: true }[] = [{ node: value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.exit) {
      ancestors.delete(item.node as object);
      continue;
    }
    const { node, path, depth } = item;
    if (node === null || typeof node !== 'object') continue;
    if (ancestors.has(node)) return `${path || '(top level)'}: refers to itself (a recursive YAML alias)`;
    if (depth >= maxDepth) return `${path || '(top level)'}: nests deeper than ${maxDepth} levels`;
    ancestors.add(node);
    stack.push({ node, path, depth, exit: true });
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [`[${i}]`, v]) : Object.entries(node).map(([k, v]) => [path ? `.${k}` : k, v]);
    for (const [step, child] of entries) stack.push({ node: child, path: `${path}${step}`, depth: depth + 1 });
  }
  return undefined;
}

/** A JSON object (not null, not an array), as decoded values are checked before their fields are read. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
