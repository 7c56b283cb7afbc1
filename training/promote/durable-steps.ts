// Filesystem steps that are on disk before the next one starts: a file is fsynced before it
// is closed, and a directory whose entries a step changed (created, renamed, removed) is
// fsynced after it, so that after a power cut the steps that happened are a prefix of the
// sequence, never a later step without an earlier one. Each step then reports itself to a
// hook: tests stop the sequence after any step there (a simulated crash) and check that the
// next run repairs what it left.
import { mkdir, open, rename, rm, symlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Called after each step with its name; a throw stops the sequence there. */
export type StepHook = (step: string) => void | Promise<void>;

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class DurableSteps {
  readonly #after: StepHook;

  constructor(after: StepHook = () => {}) {
    this.#after = after;
  }

  /** Creates `dir` and any missing parents up to an existing one, each synced into its parent. */
  async mkdir(dir: string, step: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    // Every directory from the first created one down: its parent needs the new entry on disk.
    for (let d = dir; ; d = dirname(d)) {
      await fsyncDir(dirname(d));
      if (d === first) break;
    }
    await this.#after(step);
  }

  /** Writes a new file (refusing to replace one) and fsyncs it. */
  async writeFile(path: string, bytes: Uint8Array, step: string): Promise<void> {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.#after(step);
  }

  /** Fsyncs a directory's entries (the files written into it). */
  async syncDir(dir: string, step: string): Promise<void> {
    await fsyncDir(dir);
    await this.#after(step);
  }

  /** rename(2): atomic within a filesystem, replacing a file or link at `to`; both parents synced. */
  async rename(from: string, to: string, step: string): Promise<void> {
    await rename(from, to);
    await fsyncDir(dirname(to));
    if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from));
    await this.#after(step);
  }

  /** Creates the symbolic link `path` → `target` (as given: relative targets stay relative). */
  async symlink(target: string, path: string, step: string): Promise<void> {
    await symlink(target, path, 'dir');
    await fsyncDir(dirname(path));
    await this.#after(step);
  }

  /** Removes a file or a whole directory (nothing if it is gone). */
  async remove(path: string, step: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
    await fsyncDir(dirname(path));
    await this.#after(step);
  }

  /** Sets a file's or directory's access and modification times to `ms`. */
  async touch(path: string, ms: number, step: string): Promise<void> {
    const at = new Date(ms);
    await utimes(path, at, at);
    await this.#after(step);
  }
}
