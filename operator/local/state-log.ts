// Durable state of the local API server: a snapshot file plus an append-only log of every
// write since. Each log record is one line `crc32hex json\n`, written and fsync'd before the
// write is acknowledged. A SIGKILL can only tear the last record, so bytes after the last
// newline are truncated (and reported); a bad record anywhere else is damage, and loading
// refuses to go on rather than drop what follows it, unless asked to salvage. Compaction writes a new snapshot to a temporary file,
// fsyncs it, renames it over the old one (atomic), fsyncs the directory and only then
// empties the log; records at or below the snapshot's resourceVersion are skipped on load,
// so a crash between those steps loses nothing and applies nothing twice.
import { closeSync, copyFileSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';
import type { KubeObject } from './kube-object.ts';
import { encodeRecord, scanLog, type CorruptLine, type LogRecord, type LogScan } from './state-log-scan.ts';

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

/** What loading had to repair. */
export interface LogRecovery {
  /** A torn final append that was truncated away. */
  tornTail?: { offset: number; bytes: number };
  /** What `salvage` dropped, and where the original was kept. */
  salvaged?: SalvageReport;
}

export interface SalvageReport {
  /** The untouched copy of the corrupt log. */
  original: string;
  kept: number;
  lost: CorruptLine[];
  tornTail?: { offset: number; bytes: number };
}

function describeLine(c: CorruptLine): string {
  return `line ${c.line} at byte offset ${c.offset} (${c.bytes} bytes): ${c.reason}${c.claimed ? `; it claims to be ${c.claimed}` : ''}`;
}

/** The log has a bad record before its tail: loading it would drop what follows. */
export class StateLogCorruptError extends MeshpilotError {
  readonly path: string;
  readonly corrupt: CorruptLine[];
  readonly recordsAfter: number;

  constructor(path: string, scan: LogScan) {
    const first = scan.corrupt[0]!;
    const after = scan.records.filter((r) => r.offset > first.offset).length;
    const more = scan.corrupt.length > 1 ? ` (and ${scan.corrupt.length - 1} more bad line(s): ${scan.corrupt.slice(1, 4).map((c) => `offset ${c.offset}`).join(', ')}${scan.corrupt.length > 4 ? ', ...' : ''})` : '';
    super(
      ERROR_CODES.STORAGE_FAILED,
      `state log ${path} is corrupt at ${describeLine(first)}${more}; ${after} valid record(s) follow it. ` +
        'The file is left untouched. To start anyway, keeping every record whose checksum is valid, run again with --salvage-state: ' +
        `the original is kept as ${basename(path)}.corrupt-<time> and every lost record is reported`,
    );
    this.name = 'StateLogCorruptError';
    this.path = path;
    this.corrupt = scan.corrupt;
    this.recordsAfter = after;
  }
}

/** Keeps a copy of the corrupt log, then rewrites it with only its valid records (atomically). */
function salvage(dir: string, logPath: string, buf: Buffer, scan: LogScan, now: Date): SalvageReport {
  const original = `${logPath}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  copyFileSync(logPath, original);
  const copy = openSync(original, 'r');
  try {
    fsyncSync(copy);
  } finally {
    closeSync(copy);
  }
  const tmp = `${logPath}.salvage.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (const r of scan.records) {
      let off = 0;
      while (off < r.bytes) off += writeSync(fd, buf, r.offset + off, r.bytes - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, logPath);
  fsyncDir(dir);
  return { original, kept: scan.records.length, lost: scan.corrupt, ...(scan.tornTail ? { tornTail: scan.tornTail } : {}) };
}

/** One line per lost record, for the log and the terminal. */
export function describeSalvage(report: SalvageReport): string[] {
  return [
    ...report.lost.map((c) => `lost ${describeLine(c)}`),
    ...(report.tornTail ? [`lost a torn final append at byte offset ${report.tornTail.offset} (${report.tornTail.bytes} bytes)`] : []),
  ];
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
   * Loads the directory's state and opens the log for appending. A torn final append (bytes
   * after the last newline, what a crash mid-write leaves) is truncated away and reported in
   * `recovery.tornTail`. A complete record that fails its checksum, JSON or shape is
   * corruption: without `salvage` nothing is changed and StateLogCorruptError says where;
   * with `salvage` the original is copied aside, every valid record is kept, and
   * `recovery.salvaged` lists what was lost.
   * @throws StateLogCorruptError when the log is corrupt before its tail and `salvage` is off.
   * @throws MeshpilotError STORAGE_FAILED when the snapshot cannot be parsed.
   */
  static open(dir: string, options: { compactEvery?: number; salvage?: boolean; clock?: () => Date } = {}): { log: StateLog; state: LoadedState; recovery: LogRecovery } {
    const snapshotPath = join(dir, SNAPSHOT);
    let snapshot: SnapshotFile = { format: 1, resourceVersion: 0, objects: [] };
    if (existsSync(snapshotPath)) {
      try {
        snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as SnapshotFile;
      } catch (e) {
        throw new MeshpilotError(
          ERROR_CODES.STORAGE_FAILED,
          `cannot read ${snapshotPath}: ${(e as Error).message}; it is only ever replaced whole, so the disk has damaged it: restore the state directory from a backup, or move it away to start empty`,
          { cause: e },
        );
      }
    }
    const logPath = join(dir, LOG);
    const buf = existsSync(logPath) ? readFileSync(logPath) : Buffer.alloc(0);
    const scan = scanLog(buf);
    const recovery: LogRecovery = {};
    if (scan.corrupt.length > 0) {
      if (!options.salvage) throw new StateLogCorruptError(logPath, scan);
      recovery.salvaged = salvage(dir, logPath, buf, scan, (options.clock ?? (() => new Date()))());
    }
    rmSync(join(dir, `${SNAPSHOT}.tmp`), { force: true });
    const records = scan.records.map((r) => r.record).filter((r) => r.rv > snapshot.resourceVersion);
    const created = !existsSync(logPath);
    const fd = openSync(logPath, 'a+', 0o600);
    if (created) fsyncDir(dir);
    if (scan.tornTail && !recovery.salvaged) {
      ftruncateSync(fd, scan.tornTail.offset);
      fsyncSync(fd);
      recovery.tornTail = scan.tornTail;
    }
    const rv = Math.max(snapshot.resourceVersion, records.at(-1)?.rv ?? 0);
    const log = new StateLog(dir, fd, records.length, options.compactEvery ?? 5000);
    return { log, state: { rv, snapshotRv: snapshot.resourceVersion, snapshot: snapshot.objects, records }, recovery };
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
      const data = encodeRecord(record);
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
