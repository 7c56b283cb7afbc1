// Reading Kubernetes manifests: multi-document YAML (or JSON) files as kubectl apply -f reads
// them. Errors name the file and the line, so a user can find the mistake.

import { LineCounter, parseAllDocuments } from 'yaml';
import { ConfigError } from '../base/errors.ts';
import { plainValueProblem } from '../base/plain-value.ts';

/**
 * The documents of `text` as plain JSON values, empty documents ("---" with nothing after it)
 * left out. `fileName` is only used in error messages. Throws ConfigError, naming the file
 * and line, on invalid YAML, duplicate keys, or a document that is not an object.
 */
export function parseYamlDocuments(text: string, fileName: string): unknown[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const values: unknown[] = [];
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) {
      const { line, col } = lineCounter.linePos(problem.pos[0]);
      throw new ConfigError(`${fileName}:${line}:${col}: ${problem.message.split('\n')[0]}`, { cause: problem });
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    const shape = plainValueProblem(value);
    if (shape) {
      const { line } = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]);
      throw new ConfigError(`${fileName}:${line}: ${shape}`);
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      const { line } = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]);
      throw new ConfigError(`${fileName}:${line}: a manifest must be a mapping (an object), not ${Array.isArray(value) ? 'a list' : typeof value}`);
    }
    values.push(value);
  }
  return values;
}
