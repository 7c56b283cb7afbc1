// The installed versions of one model name, laid out as Kubernetes lays out a ConfigMap
// volume: each version is a directory of its own, <models>/.versions/<name>/<version>/,
// written completely under a temporary name and renamed into place, and <models>/<name> is a
// symbolic link to one of them, replaced by renaming a fresh link over it: one rename(2). A
// reader that resolves the link once per load (ModelRegistry does) sees the old model or the
// new one, never a mix. Version directories are never changed once in place.
//
// A promotion is journalled: once the new version directory is complete, .promote.json in
// .versions/<name>/ records which directory <name> is to link to, and it is removed only
// after the link is swapped. recover() (run before every install, and by `meshpilot promote
// --recover`) finishes a journalled promotion and removes what an unjournalled one left
// (staging directories, temporary links, half-pruned versions); <name> itself is only ever
// changed on the way to the journalled target. The first promotion over a real directory (a
// model trained straight into models/<name>) moves it into .versions/ before linking: after a
// crash between the two, <name> is missing (the registry reports it and the heuristic
// decides) until recovery links it. One promotion of a name runs at a time.
import { randomUUID } from 'node:crypto';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../operator/base/errors.ts';
import { systemClock, type Clock } from '../../operator/base/clock.ts';
import { readModelFiles } from '../../operator/policy/model/files.ts';
import { MODEL_METADATA_FILE } from '../../operator/policy/model/format.ts';
import { resolveModelDir } from '../../operator/policy/model/registry.ts';
import { DurableSteps, type StepHook } from './durable-steps.ts';

export const VERSIONS_DIR = '.versions';
export const JOURNAL_FILE = '.promote.json';
const STAGING = '.staging-';
const TRASH = '.trash-';
const JOURNAL_TEMP = `${JOURNAL_FILE}.tmp-`;

/** What a version directory may be called: a model's version string, if it is a plain file name. */
const VERSION_DIR = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** Whether `version` can name a version directory as it is. */
export function isVersionDirName(version: string): boolean {
  return VERSION_DIR.test(version);
}

/** The files of a model directory, by name. */
export type ModelFileSet = ReadonlyMap<string, Uint8Array>;

/** What <models>/<name> is now. */
export interface Serving {
  kind: 'link' | 'directory' | 'missing' | 'other';
  /** The version directory it links to, when it links into .versions/<name>/. */
  versionDir: string | null;
  /** The model version its metadata names (null when missing or unreadable). */
  version: string | null;
}

export interface InstallResult {
  /** The version directory <name> now links to. */
  versionDir: string;
  /** An identical copy was already in .versions (a re-run after a crash, or a rollback): nothing was copied. */
  reused: boolean;
  /** The version directory <name> linked to (or was moved to) before, if any. */
  replaced: string | null;
}

export interface RecoverResult {
  /** The version directory a journalled promotion was finished to, if there was one. */
  finished: string | null;
  /** Leftovers removed (staging directories, temporary links and files, half-pruned versions). */
  removed: string[];
}

export interface ModelVersionsOptions {
  /** Install times, which order versions for pruning (default: the system clock). */
  clock?: Clock;
  /** Called after each filesystem step (tests stop there to simulate a crash). */
  afterStep?: StepHook;
}

interface Journal {
  /** The version directory <name> is to link to. */
  to: string;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

async function versionOf(dir: string): Promise<string | null> {
  try {
    const meta = JSON.parse(await readFile(join(dir, MODEL_METADATA_FILE), 'utf8')) as { version?: unknown };
    return typeof meta.version === 'string' && meta.version.length > 0 ? meta.version : null;
  } catch {
    return null;
  }
}

/** Whether `dir` holds exactly `files`, byte for byte. */
async function holds(dir: string, files: ModelFileSet): Promise<boolean> {
  const names = await readdir(dir);
  if (names.length !== files.size || names.some((n) => !files.has(n))) return false;
  for (const [name, bytes] of files) {
    if (Buffer.compare(await readFile(join(dir, name)), bytes) !== 0) return false;
  }
  return true;
}

export class ModelVersions {
  /** The models directory. */
  readonly root: string;
  readonly name: string;
  /** <root>/<name>: the link routes' modelRef resolves to. */
  readonly path: string;
  /** <root>/.versions/<name>. */
  readonly versions: string;
  readonly #clock: Clock;
  readonly #fs: DurableSteps;

  constructor(root: string, name: string, options: ModelVersionsOptions = {}) {
    this.root = resolve(root);
    this.name = name;
    this.path = join(this.root, name);
    this.versions = join(this.root, VERSIONS_DIR, name);
    this.#clock = options.clock ?? systemClock;
    this.#fs = new DurableSteps(options.afterStep);
  }

  /** What <name> is and serves now. Reads only. */
  async serving(): Promise<Serving> {
    let kind: Serving['kind'];
    try {
      const s = await lstat(this.path);
      kind = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'directory' : 'other';
    } catch (e) {
      if (!isMissing(e)) throw e;
      return { kind: 'missing', versionDir: null, version: null };
    }
    const resolved = await resolveModelDir(this.path);
    const inside = kind === 'link' && resolved.startsWith(`${this.versions}/`) ? resolved.slice(this.versions.length + 1) : null;
    return { kind, versionDir: inside !== null && !inside.includes('/') ? inside : null, version: await versionOf(resolved) };
  }

  /** The version directories in .versions/<name>/, newest install first (ties by name). */
  async list(): Promise<string[]> {
    const names = (await this.#entries()).filter((n) => !n.startsWith('.'));
    const times = new Map<string, number>();
    for (const n of names) {
      const s = await stat(join(this.versions, n));
      if (s.isDirectory()) times.set(n, s.mtimeMs);
    }
    return [...times.keys()].sort((a, b) => times.get(b)! - times.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Finishes a journalled promotion (links <name> to its version and removes the journal) and
   * removes leftovers of interrupted ones. Idempotent; changes nothing when nothing was
   * interrupted. Throws ConfigError for a journal that is not one, or that names a version
   * directory that is gone.
   */
  async recover(): Promise<RecoverResult> {
    const removed: string[] = [];
    for (const entry of await this.#entries()) {
      if (entry.startsWith(STAGING) || entry.startsWith(TRASH) || entry.startsWith(JOURNAL_TEMP)) {
        await this.#fs.remove(join(this.versions, entry), 'remove leftover');
        removed.push(join(this.versions, entry));
      }
    }
    const linkTemp = `.${this.name}.link-`;
    for (const entry of await readdir(this.root).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)))) {
      if (entry.startsWith(linkTemp)) {
        await this.#fs.remove(join(this.root, entry), 'remove leftover link');
        removed.push(join(this.root, entry));
      }
    }
    const journal = await this.#readJournal();
    if (journal === null) return { finished: null, removed };
    await this.#linkTo(journal.to);
    await this.#fs.remove(join(this.versions, JOURNAL_FILE), 'remove journal');
    return { finished: journal.to, removed };
  }

  /**
   * Installs `files` (a model directory whose metadata names `version`) and links <name> to
   * it. Reuses a version directory that already holds exactly these files; otherwise copies
   * them to a new one (named after the version, `~2`, `~3`… when that name is taken by other
   * files) and checks the copy with readModelFiles before it is renamed into place. Run
   * recover() first. Throws ConfigError when the copy is not a loadable model of `version`,
   * or when <name> is neither a link nor a directory.
   */
  async install(files: ModelFileSet, version: string): Promise<InstallResult> {
    if (!isVersionDirName(version)) throw new ConfigError(`${MODEL_METADATA_FILE} version: "${version}" cannot name a version directory (letters, digits, ".", "_", "+" and "-", starting with a letter or digit)`);
    const before = await this.serving();
    if (before.kind === 'other') throw this.#notAModel();
    await this.#fs.mkdir(this.versions, 'create versions directory');
    let target: string | undefined;
    for (const existing of await this.list()) {
      if (this.#copyOf(existing, version) && (await holds(join(this.versions, existing), files))) target = existing;
    }
    const reused = target !== undefined;
    if (target === undefined) {
      target = await this.#freeName(version);
      const staging = join(this.versions, `${STAGING}${randomUUID().slice(0, 8)}`);
      await this.#fs.mkdir(staging, 'create staging directory');
      for (const [file, bytes] of files) await this.#fs.writeFile(join(staging, file), bytes, `copy ${file}`);
      await this.#fs.syncDir(staging, 'sync staging directory');
      const copied = await readModelFiles(staging);
      if (copied.metadata.version !== version) throw new ConfigError(`${join(staging, MODEL_METADATA_FILE)} version: "${copied.metadata.version}", but the candidate that was judged is "${version}"; was the candidate changed during the promotion?`);
      await this.#fs.rename(staging, join(this.versions, target), 'rename version into place');
    }
    await this.#writeJournal({ to: target });
    const replaced = await this.#linkTo(target);
    await this.#fs.remove(join(this.versions, JOURNAL_FILE), 'remove journal');
    return { versionDir: target, reused, replaced: replaced ?? before.versionDir };
  }

  /**
   * Removes the oldest version directories beyond `keep` (by install time), never one in
   * `protect` (the linked one and the one it replaced). Each is renamed aside first, so a
   * crash leaves no half-removed version under its own name. Returns the removed names.
   */
  async prune(keep: number, protect: readonly (string | null)[]): Promise<string[]> {
    const kept = new Set(protect.filter((p): p is string => p !== null));
    const pruned: string[] = [];
    for (const dir of await this.list()) {
      if (kept.has(dir)) continue;
      if (kept.size < keep) {
        kept.add(dir);
        continue;
      }
      const trash = join(this.versions, `${TRASH}${randomUUID().slice(0, 8)}`);
      await this.#fs.rename(join(this.versions, dir), trash, 'set aside old version');
      await this.#fs.remove(trash, 'remove old version');
      pruned.push(dir);
    }
    return pruned;
  }

  #notAModel(): ConfigError {
    return new ConfigError(`${this.path}: neither a model directory nor a link to one; move it away and promote again`);
  }

  async #entries(): Promise<string[]> {
    try {
      return await readdir(this.versions);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  /** `dir` is `version` or one of its `~N` copies. */
  #copyOf(dir: string, version: string): boolean {
    return dir === version || (dir.startsWith(`${version}~`) && /^\d+$/.test(dir.slice(version.length + 1)));
  }

  async #freeName(base: string): Promise<string> {
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? base : `${base}~${n}`;
      try {
        await lstat(join(this.versions, candidate));
      } catch (e) {
        if (isMissing(e)) return candidate;
        throw e;
      }
    }
  }

  async #readJournal(): Promise<Journal | null> {
    const file = join(this.versions, JOURNAL_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
    let to: unknown;
    try {
      to = (JSON.parse(text) as { to?: unknown }).to;
    } catch {
      to = undefined;
    }
    if (typeof to !== 'string' || to.startsWith('.') || to.includes('/')) throw new ConfigError(`${file} to: expected the name of a version directory in ${this.versions}; the journal is corrupt, remove it and promote again`);
    const isDirectory = await stat(join(this.versions, to)).then((s) => s.isDirectory(), () => false);
    if (!isDirectory) throw new ConfigError(`${file} to: the version directory "${to}" is gone; remove the journal and promote again`);
    return { to };
  }

  async #writeJournal(journal: Journal): Promise<void> {
    const temp = join(this.versions, `${JOURNAL_TEMP}${randomUUID().slice(0, 8)}`);
    await this.#fs.writeFile(temp, Buffer.from(`${JSON.stringify(journal)}\n`), 'write journal');
    await this.#fs.rename(temp, join(this.versions, JOURNAL_FILE), 'commit journal');
  }

  /**
   * Makes <name> a link to the version directory `target`: a real directory there is first
   * moved into .versions/<name>/ (named after its version), then a fresh link is renamed over
   * <name>. Returns the directory it moved, if any. Idempotent.
   */
  async #linkTo(target: string): Promise<string | null> {
    const now = await this.serving();
    let moved: string | null = null;
    if (now.kind === 'other') throw this.#notAModel();
    if (now.kind === 'directory') {
      const own = now.version !== null && isVersionDirName(now.version) ? now.version : `unversioned-${this.#clock.now()}`;
      moved = await this.#freeName(own);
      await this.#fs.rename(this.path, join(this.versions, moved), 'move directory into versions');
    }
    if (now.kind !== 'link' || now.versionDir !== target) {
      const temp = join(this.root, `.${this.name}.link-${randomUUID().slice(0, 8)}`);
      await this.#fs.symlink(join(VERSIONS_DIR, this.name, target), temp, 'create link');
      await this.#fs.rename(temp, this.path, 'swap link');
    }
    await this.#fs.touch(join(this.versions, target), this.#clock.now(), 'record install time');
    return moved;
  }
}
