// The local API server's pure building blocks, checked directly: JSONPath for printer
// columns, selectors, patches, request paths, ages, and the state log's torn-record rule.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { humanDuration } from '../../../operator/local/human-duration.ts';
import { compileJsonPath } from '../../../operator/local/jsonpath.ts';
import { jsonPatch, mergePatch } from '../../../operator/local/patch.ts';
import { parseResourceRequest } from '../../../operator/local/request-info.ts';
import { matchesLabels, parseLabelSelector } from '../../../operator/local/selectors.ts';
import { StateLog } from '../../../operator/local/state-log.ts';
import { tempStateDir } from '../../support/local-api-server.ts';

describe('compileJsonPath', () => {
  const doc = {
    spec: { destinations: [{ region: 'eu', weight: 1 }, { region: 'us', weight: 2 }], 'dotted.key': 'v' },
    status: { conditions: [{ type: 'Valid', status: 'True' }, { type: 'Ready', status: 'False' }] },
  };

  it('evaluates the forms printer columns use', () => {
    expect(compileJsonPath('.spec.destinations[*].region').find(doc)).toEqual(['eu', 'us']);
    expect(compileJsonPath('.status.conditions[?(@.type=="Ready")].status').find(doc)).toEqual(['False']);
    expect(compileJsonPath('{.spec.destinations[1].weight}').find(doc)).toEqual([2]);
    expect(compileJsonPath('.spec.destinations[-1].region').find(doc)).toEqual(['us']);
    expect(compileJsonPath(".spec['dotted.key']").find(doc)).toEqual(['v']);
    expect(compileJsonPath('.spec.destinations[?(@.weight > 1)].region').find(doc)).toEqual(['us']);
    expect(compileJsonPath('.status.missing.deeper').find(doc)).toEqual([]);
  });

  it('refuses what it does not support', () => {
    expect(() => compileJsonPath('spec.x')).toThrow();
    expect(() => compileJsonPath('.spec[?(weird)]')).toThrow(/unsupported filter/);
  });
});

describe('label selectors', () => {
  it('parses and matches set-based requirements', () => {
    const sel = parseLabelSelector('env in (prod,staging),!canary,tier!=db,version>2');
    expect(matchesLabels(sel, { env: 'prod', tier: 'web', version: '3' })).toBe(true);
    expect(matchesLabels(sel, { env: 'prod', tier: 'web', version: '2' })).toBe(false);
    expect(matchesLabels(sel, { env: 'prod', tier: 'web', version: '3', canary: 'x' })).toBe(false);
    expect(matchesLabels(sel, { env: 'dev', version: '9' })).toBe(false);
    expect(() => parseLabelSelector('a in (b')).toThrow();
    expect(() => parseLabelSelector('bad key=x')).toThrow();
  });
});

describe('patches', () => {
  it('merges per RFC 7386', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
  });

  it('applies RFC 6902 operations and fails a test with 422', () => {
    const doc = { a: [1, 2], b: { 'x/y': 1 } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'move', from: '/b/x~1y', path: '/c' },
        { op: 'copy', from: '/a/0', path: '/a/0' },
        { op: 'remove', path: '/b' },
      ]),
    ).toEqual({ a: [1, 1, 2, 3], c: 1 });
    expect(doc).toEqual({ a: [1, 2], b: { 'x/y': 1 } });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/a/0', value: 9 }])).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 422 }) }));
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/nope/x', value: 1 }])).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 422 }) }));
  });
});

describe('parseResourceRequest', () => {
  const q = new URLSearchParams();
  it('resolves namespaces, subresources, verbs and legacy watch paths like kube-apiserver', () => {
    expect(parseResourceRequest('GET', '/api/v1/namespaces/ns1', q)).toEqual({ group: '', version: 'v1', resource: 'namespaces', name: 'ns1', verb: 'get' });
    expect(parseResourceRequest('PUT', '/api/v1/namespaces/ns1/status', q)).toEqual({ group: '', version: 'v1', resource: 'namespaces', name: 'ns1', subresource: 'status', verb: 'update' });
    expect(parseResourceRequest('PATCH', '/apis/g.io/v1/namespaces/n/things/t/status', q)).toEqual({ group: 'g.io', version: 'v1', namespace: 'n', resource: 'things', name: 't', subresource: 'status', verb: 'patch' });
    expect(parseResourceRequest('GET', '/apis/g.io/v1/watch/namespaces/n/things', q)).toEqual({ group: 'g.io', version: 'v1', namespace: 'n', resource: 'things', verb: 'watch' });
    expect(parseResourceRequest('DELETE', '/apis/g.io/v1/things', q)).toEqual({ group: 'g.io', version: 'v1', resource: 'things', verb: 'deletecollection' });
    expect(parseResourceRequest('POST', '/apis/g.io/v1/things/x', q)).toBe('method-not-allowed');
    expect(parseResourceRequest('GET', '/apis/g.io/v1', q)).toBeUndefined();
  });
});

describe('humanDuration', () => {
  it('prints ages like kubectl', () => {
    expect([humanDuration(5_000), humanDuration(150_000), humanDuration(600_000), humanDuration(5 * 3600_000 + 60_000), humanDuration(50 * 3600_000), humanDuration(400 * 86400_000)]).toEqual([
      '5s',
      '2m30s',
      '10m',
      '5h1m',
      '2d2h',
      '400d',
    ]);
  });
});

describe('StateLog', () => {
  it('truncates a torn tail; refuses a corrupt complete record unless asked to salvage, and then keeps the valid ones', async () => {
    const dir = await tempStateDir('statelog');
    try {
      const object = { metadata: { name: 'a', namespace: 'n' } };
      const { log } = StateLog.open(dir);
      log.append({ rv: 1, op: 'put', type: 't', object });
      log.append({ rv: 2, op: 'put', type: 't', object: { ...object, spec: 1 } });
      log.close();
      const path = join(dir, 'log.jsonl');
      const lines = readFileSync(path, 'utf8').split('\n');
      // Flip a byte inside the second record's JSON: its checksum no longer matches.
      const corrupted = `${lines[0]}\n${lines[1]?.replace('"spec":1', '"spec":7')}\n`;
      writeFileSync(path, corrupted);
      appendFileSync(path, '12345678 {"rv":3');
      expect(() => StateLog.open(dir)).toThrow(/is corrupt at line 2/);
      const reopened = StateLog.open(dir, { salvage: true });
      expect(reopened.state.records.map((r) => r.rv)).toEqual([1]);
      expect(reopened.state.rv).toBe(1);
      reopened.log.append({ rv: 2, op: 'delete', type: 't', object });
      reopened.log.close();
      expect(StateLog.open(dir).state.records.map((r) => [r.rv, r.op])).toEqual([
        [1, 'put'],
        [2, 'delete'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
