// Durable state of the local API server: a snapshot file plus an append-only log of every
// write since. Each log record is one line `crc32hex json\n`, written and fsync'd before the
// write is acknowledged. A SIGKILL can only tear the last record; loading keeps the valid
// prefix and truncates the rest. Compaction writes a new snapshot to a temporary file,
// fsyncs it, renames it over the old one (atomic), fsyncs the directory and only then
// empties the log; records at or below the snapshot's resourceVersion are skipped on load,
// so a crash between those steps loses nothing and applies nothing twice.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ERROR_CODES, MeshpilotError } from '../api/errors.ts';
import type { KubeObject } from './kube-object.ts';

/** One accepted write. `object` is the object after the write (for a delete: as it was removed). */
export interface LogRecord {
  rv: number;
  op: 'put' | 'delete';
  /** Storage type key, e.g. `traffic.meshpilot.io/adaptiveroutes`. */
  type: string;
  object: KubeObject;
}

/** What a state directory held. */
export interface LoadedState {
  /** Highest resourceVersion ever issued. */
  rv: number;
  /** resourceVersion the snapshot was taken at (0 without one); history before it is gone. */
  snapshotRv: number;
  /** Objects from the snapshot, before the log records are applied. */
  snapshot: { type: string; object: KubeObject }[];
  /** Records after the snapshot, in order. */
  records: LogRecord[];
}

interface SnapshotFile {
  format: 1;
  resourceVersion: number;
  objects: { type: string; object: KubeObject }[];
}

const SNAPSHOT = 'snapshot.json';
const LOG = 'log.jsonl';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function encode(record: LogRecord): Buffer {
  const json = JSON.stringify(record);
  const crc = crc32(json).toString(16).padStart(8, '0');
  return Buffer.from(`${crc} ${json}\n`, 'utf8');
}

/** The append-only log and snapshot of one state directory. Not safe for two processes: hold a StateDirLock. */
export class StateLog {
  readonly dir: string;
  #fd: number;
  #recordsSinceSnapshot: number;
  readonly #compactEvery: number;

  private constructor(dir: string, fd: number, records: number, compactEvery: number) {
    this.dir = dir;
    this.#fd = fd;
    this.#recordsSinceSnapshot = records;
    this.#compactEvery = compactEvery;
  }

  /**
   * Loads the directory's state and opens the log for appending. A torn final record is
   * dropped (and truncated away); a corrupt snapshot is an error, since it is only ever
   * replaced atomically.
   * @throws MeshpilotError STORAGE_FAILED when the snapshot cannot be parsed.
   */
  static open(dir: string, options: { compactEvery?: number } = {}): { log: StateLog; state: LoadedState } {
    rmSync(join(dir, `${SNAPSHOT}.tmp`), { force: true });
    let snapshot: SnapshotFile = { format: 1, resourceVersion: 0, objects: [] };
    const snapshotPath = join(dir, SNAPSHOT);
    if (existsSync(snapshotPath)) {
      try {
        snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as SnapshotFile;
      } catch (e) {
        throw new MeshpilotError(ERROR_CODES.STORAGE_FAILED, `cannot read ${snapshotPath}: ${(e as Error).message}`, { cause: e });
      }
    }
    const logPath = join(dir, LOG);
    const records: LogRecord[] = [];
    let validBytes = 0;
    let total = 0;
    if (existsSync(logPath)) {
      const buf = readFileSync(logPath);
      total = buf.length;
      let start = 0;
      while (start < buf.length) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break; // torn: no newline yet
        const line = buf.subarray(start, nl).toString('utf8');
        const space = line.indexOf(' ');
        const json = line.slice(space + 1);
        if (space !== 8 || crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) break;
        let record: LogRecord;
        try {
          record = JSON.parse(json) as LogRecord;
        } catch {
          break;
        }
        if (record.rv > snapshot.resourceVersion) records.push(record);
        start = nl + 1;
        validBytes = start;
      }
    }
    const created = !existsSync(logPath);
    const fd = openSync(logPath, 'a+', 0o600);
    if (created) fsyncDir(dir);
    if (validBytes < total) {
      ftruncateSync(fd, validBytes);
      fsyncSync(fd);
    }
    const rv = Math.max(snapshot.resourceVersion, records.at(-1)?.rv ?? 0);
    const log = new StateLog(dir, fd, records.length, options.compactEvery ?? 5000);
    return { log, state: { rv, snapshotRv: snapshot.resourceVersion, snapshot: snapshot.objects, records } };
  }

  /** True once enough records have accumulated that the caller should `compact`. */
  get wantsCompaction(): boolean {
    return this.#recordsSinceSnapshot >= this.#compactEvery;
  }

  /**
   * Appends one record and fsyncs it: when this returns, the write survives a crash.
   * @throws MeshpilotError STORAGE_FAILED when the disk refuses the write.
   */
  append(record: LogRecord): void {
    try {
      const data = encode(record);
      let off = 0;
      while (off < data.length) off += writeSync(this.#fd, data, off);
      fsyncSync(this.#fd);
      this.#recordsSinceSnapshot++;
    } catch (e) {
      throw new MeshpilotError(ERROR_CODES.STORAGE_FAILED, `cannot append to ${join(this.dir, LOG)}: ${(e as Error).message}`, { cause: e, retriable: true });
    }
  }

  /** Replaces the snapshot with `objects` at `rv` and empties the log (see the header for the crash story). */
  compact(rv: number, objects: { type: string; object: KubeObject }[]): void {
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const body: SnapshotFile = { format: 1, resourceVersion: rv, objects };
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(body));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    ftruncateSync(this.#fd, 0);
    fsyncSync(this.#fd);
    this.#recordsSinceSnapshot = 0;
  }

  /** Closes the log file; idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
