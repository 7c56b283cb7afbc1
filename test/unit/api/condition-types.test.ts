// The conditions table is API: every type and reason meshpilot writes is in the README's
// table, and the README names none that the code does not have.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import * as table from '../../../operator/api/condition-types.ts';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = README.slice(README.indexOf('### Status and conditions'), README.indexOf('\n## ', README.indexOf('### Status and conditions')));

describe('the conditions table (operator/api/condition-types.ts)', () => {
  const strings = new Set(Object.values(table).flatMap((group) => Object.values(group) as string[]));

  it('is documented in full in the README', () => {
    const missing = [...strings].filter((s) => !section.includes(`\`${s}\``));
    expect(missing).toEqual([]);
  });

  it('documents nothing the code does not write', () => {
    const documented = [...section.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]!);
    expect(documented.filter((d) => !strings.has(d) && d !== 'ContactPlan' && d !== 'AdaptiveRoute')).toEqual([]);
  });

  it('holds CamelCase reasons, as Kubernetes expects', () => {
    for (const s of strings) expect(s).toMatch(/^[A-Z][A-Za-z0-9]*$/);
  });
});
