// Regular expressions as Kubernetes runs them: RE2 (re2js, a linear-time port), never
// JavaScript's backtracking engine. A CRD `pattern` or a CEL `matches()` is checked against
// strings a client sends; with backtracking, `^(a+)+$` against thirty-odd a's and a '!' takes
// seconds and stalls every other request. RE2 also has RE2's syntax, so a pattern that the
// real API server refuses is refused here too.
import { RE2JS } from 're2js';

const compiled = new Map<string, RE2JS | Error>();
/** Patterns come from CRDs, a bounded set; the cache is bounded anyway. */
const MAX_CACHED = 1024;

/** The compiled pattern, or the error that says why RE2 refuses it. */
export function re2(pattern: string): RE2JS | Error {
  let re = compiled.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      re = e instanceof Error ? e : new Error(String(e));
    }
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** True when `pattern` matches somewhere in `text` (RE2's partial match, like Go's MatchString). @throws Error when RE2 refuses the pattern. */
export function re2Test(pattern: string, text: string): boolean {
  const re = re2(pattern);
  if (re instanceof Error) throw re;
  return re.test(text);
}

/** Every non-overlapping match of `pattern` in `text`, at most `limit` (negative: all). @throws Error when RE2 refuses the pattern. */
export function re2FindAll(pattern: string, text: string, limit = -1): string[] {
  const re = re2(pattern);
  if (re instanceof Error) throw re;
  const found: string[] = [];
  const m = re.matcher(text);
  while ((limit < 0 || found.length < limit) && m.find()) found.push(m.group() ?? '');
  return found;
}
