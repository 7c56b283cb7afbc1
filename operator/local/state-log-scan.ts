// Reading a state log back: splits `log.jsonl` into records and tells a torn tail (what a
// crash mid-append leaves: bytes after the last newline) from corruption (a complete line
// whose checksum, JSON or shape is wrong). Only the caller decides what to do with either;
// this file never changes the log.
import { crc32 } from 'node:zlib';
import type { KubeObject } from './kube-object.ts';

/** A complete line that is not a valid record. */
/** One accepted write. `object` is the object after the write (for a delete: as it was removed). */
export interface LogRecord {
  rv: number;
  op: 'put' | 'delete';
  /** Storage type key, e.g. `traffic.meshpilot.io/adaptiveroutes`. */
  type: string;
  object: KubeObject;
}

export interface CorruptLine {
  /** Byte offset of the line in the file. */
  offset: number;
  /** Length in bytes, newline included. */
  bytes: number;
  /** 1-based line number. */
  line: number;
  reason: string;
  /** What the line claims to be, when its JSON parses (its checksum may still be wrong). */
  claimed?: string;
}

export interface LogScan {
  /** Valid records, in file order (the snapshot filter is the caller's). */
  records: { record: LogRecord; offset: number; bytes: number }[];
  corrupt: CorruptLine[];
  /** Bytes after the last newline: an append torn by a crash. */
  tornTail?: { offset: number; bytes: number };
}

/** `crc32hex json\n`: the one encoding of a record. */
export function encodeRecord(record: LogRecord): Buffer {
  const json = JSON.stringify(record);
  const crc = crc32(json).toString(16).padStart(8, '0');
  return Buffer.from(`${crc} ${json}\n`, 'utf8');
}

function describeClaim(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<LogRecord>;
  const meta = (r.object as { metadata?: { namespace?: unknown; name?: unknown } } | undefined)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '?';
  const where = typeof meta?.namespace === 'string' ? `${meta.namespace}/${name}` : name;
  return `rv ${String(r.rv)} ${String(r.op)} ${String(r.type)} ${where}`;
}

function shapeProblem(value: unknown, previousRv: number): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.rv) || (r.rv as number) < 1) return 'rv is not a positive integer';
  if ((r.rv as number) <= previousRv) return `rv ${String(r.rv)} does not follow rv ${previousRv}`;
  if (r.op !== 'put' && r.op !== 'delete') return 'op is neither put nor delete';
  if (typeof r.type !== 'string') return 'type is not a string';
  const object = r.object as { metadata?: { name?: unknown } } | undefined;
  if (typeof object !== 'object' || object === null || typeof object.metadata?.name !== 'string') return 'object.metadata.name is not a string';
  return undefined;
}

/** Splits a log file's bytes into valid records, corrupt lines and a torn tail. */
export function scanLog(buf: Buffer): LogScan {
  const scan: LogScan = { records: [], corrupt: [] };
  let start = 0;
  let line = 0;
  let previousRv = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) {
      scan.tornTail = { offset: start, bytes: buf.length - start };
      break;
    }
    line++;
    const text = buf.subarray(start, nl).toString('utf8');
    const bytes = nl + 1 - start;
    const space = text.indexOf(' ');
    const json = text.slice(space + 1);
    let parsed: unknown;
    let parses = true;
    try {
      parsed = JSON.parse(json);
    } catch {
      parses = false;
    }
    let reason: string | undefined;
    if (space !== 8 || crc32(json).toString(16).padStart(8, '0') !== text.slice(0, 8)) reason = 'checksum mismatch';
    else if (!parses) reason = 'not JSON';
    else reason = shapeProblem(parsed, previousRv);
    if (reason === undefined) {
      const record = parsed as LogRecord;
      previousRv = record.rv;
      scan.records.push({ record, offset: start, bytes });
    } else {
      const claimed = parses ? describeClaim(parsed) : undefined;
      scan.corrupt.push({ offset: start, bytes, line, reason, ...(claimed ? { claimed } : {}) });
    }
    start = nl + 1;
  }
  return scan;
}
