import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../operator/base/errors.ts';
import { parseYamlDocuments } from '../../../operator/api/manifests.ts';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('parseYamlDocuments', () => {
  it('returns every document as plain JSON, skipping empty ones', () => {
    const text = '---\na: 1\n---\n# nothing here\n---\nb: [x, "2025-01-01T00:00:00Z", 1.5]\n...\n';
    expect(parseYamlDocuments(text, 'two.yaml')).toEqual([{ a: 1 }, { b: ['x', '2025-01-01T00:00:00Z', 1.5] }]);
  });

  it('reads JSON too', () => {
    expect(parseYamlDocuments('{"kind": "ContactPlan", "n": [1, 2]}', 'plan.json')).toEqual([{ kind: 'ContactPlan', n: [1, 2] }]);
  });

  it('names the file and the line of a syntax error', () => {
    const e = errorOf(() => parseYamlDocuments('a: 1\n---\nb: [1, 2\nc: 3\n', 'routes/bad.yaml'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^routes\/bad\.yaml:[34]:\d+: /);
  });

  it('refuses a duplicate key, naming its line', () => {
    const e = errorOf(() => parseYamlDocuments('spec:\n  host: a\n  host: b\n', 'dup.yaml'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^dup\.yaml:3:\d+: .*unique/);
  });

  it('refuses a document that is not a mapping', () => {
    const e = errorOf(() => parseYamlDocuments('a: 1\n---\n- x\n- y\n', 'list.yaml'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('list.yaml:3: a manifest must be a mapping (an object), not a list');
  });
});
