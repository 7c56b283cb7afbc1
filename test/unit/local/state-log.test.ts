// The state log after a crash and after damage: a torn final append is truncated and
// reported; a bad record before the tail refuses the start and leaves the file as it was;
// --salvage-state keeps every valid record, a copy of the original, and says what was lost.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { StateLog, StateLogCorruptError, describeSalvage } from '../../../operator/local/state-log.ts';
import type { LogRecord } from '../../../operator/local/state-log-scan.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function record(rv: number, name = `r${rv}`): LogRecord {
  return { rv, op: 'put', type: 'traffic.meshpilot.io/adaptiveroutes', object: { apiVersion: 'v1', kind: 'X', metadata: { name, namespace: 'default' } } };
}

/** A state directory whose log holds `count` records, written through StateLog itself. */
function tenRecords(count = 10): string {
  const dir = mkdtempSync(join(tmpdir(), 'state-log-'));
  dirs.push(dir);
  const { log } = StateLog.open(dir);
  for (let rv = 1; rv <= count; rv++) log.append(record(rv));
  log.close();
  return dir;
}

function lineOffsets(buf: Buffer): number[] {
  const offsets = [0];
  for (let i = 0; i < buf.length - 1; i++) if (buf[i] === 0x0a) offsets.push(i + 1);
  return offsets;
}

/** Changes one byte inside the JSON of line `n` (1-based), as a bit flip on disk would: the JSON still parses. */
function corruptLine(dir: string, n: number): number {
  const path = join(dir, 'log.jsonl');
  const buf = readFileSync(path);
  const offset = lineOffsets(buf)[n - 1]!;
  const kind = buf.indexOf('"kind":"X"', offset) + '"kind":"'.length;
  buf[kind] = 0x59;
  writeFileSync(path, buf);
  return offset;
}

describe('StateLog.open', () => {
  it('truncates a torn final append, keeps every complete record, and reports the tail', () => {
    const dir = tenRecords();
    const before = statSync(join(dir, 'log.jsonl')).size;
    const torn = '0badc0de {"rv":11,"op":"put","type":"x","object":{"metadata":{"na';
    appendFileSync(join(dir, 'log.jsonl'), torn);
    const { log, state, recovery } = StateLog.open(dir);
    log.close();
    expect(state.records.map((r) => r.rv)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(recovery.tornTail).toEqual({ offset: before, bytes: torn.length });
    expect(statSync(join(dir, 'log.jsonl')).size).toBe(before);
  });

  it('refuses a log with a bad record before the tail, naming the file, the offset and the records after it, and changes nothing', () => {
    const dir = tenRecords();
    const offset = corruptLine(dir, 6);
    const bytes = readFileSync(join(dir, 'log.jsonl'));
    const files = readdirSync(dir).sort();
    let error: unknown;
    try {
      StateLog.open(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateLogCorruptError);
    const e = error as StateLogCorruptError;
    expect(e.message).toContain(join(dir, 'log.jsonl'));
    expect(e.message).toContain(`byte offset ${offset}`);
    expect(e.message).toContain('line 6');
    expect(e.message).toContain('4 valid record(s) follow it');
    expect(e.message).toContain('--salvage-state');
    expect(e.recordsAfter).toBe(4);
    expect(readFileSync(join(dir, 'log.jsonl')).equals(bytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(files);
  });

  it('refuses a complete last record with a bad checksum: it was written whole, so it is damage, not a torn append', () => {
    const dir = tenRecords();
    corruptLine(dir, 10);
    expect(() => StateLog.open(dir)).toThrow(/line 10 .*0 valid record\(s\) follow it/);
  });

  it('refuses a record whose checksum is valid but whose resourceVersion goes backwards', () => {
    const dir = tenRecords(3);
    const log = readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'log.jsonl'), [log[0], log[2], log[1], ''].join('\n'));
    expect(() => StateLog.open(dir)).toThrow(/rv 2 does not follow rv 3/);
  });

  it('salvages every record with a valid checksum, keeps the original, and lists what was lost', () => {
    const dir = tenRecords();
    corruptLine(dir, 6);
    appendFileSync(join(dir, 'log.jsonl'), 'torn');
    const original = readFileSync(join(dir, 'log.jsonl'));
    const { log, state, recovery } = StateLog.open(dir, { salvage: true, clock: () => new Date('2026-12-07T10:00:00Z') });
    log.append(record(11));
    log.close();
    expect(state.records.map((r) => r.rv)).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
    expect(state.rv).toBe(10);
    const salvaged = recovery.salvaged!;
    expect(salvaged.kept).toBe(9);
    expect(salvaged.original).toBe(join(dir, 'log.jsonl.corrupt-2026-12-07T10-00-00-000Z'));
    expect(readFileSync(salvaged.original).equals(original)).toBe(true);
    const lines = describeSalvage(salvaged);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^lost line 6 at byte offset \d+ \(\d+ bytes\): checksum mismatch; it claims to be rv 6 put traffic\.meshpilot\.io\/adaptiveroutes default\/r6$/);
    expect(lines[1]).toMatch(/torn final append .* \(4 bytes\)/);
    // The rewritten log opens cleanly, with the record appended after the salvage.
    const again = StateLog.open(dir);
    again.log.close();
    expect(again.state.records.map((r) => r.rv)).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10, 11]);
    expect(again.recovery).toEqual({});
  });

  it('changes nothing with --salvage-state when nothing is damaged', () => {
    const dir = tenRecords();
    const { log, recovery } = StateLog.open(dir, { salvage: true });
    log.close();
    expect(recovery).toEqual({});
    expect(readdirSync(dir).filter((f) => f.includes('corrupt'))).toEqual([]);
  });
});
