// A Secret mounted as kubelet mounts it: the files are symlinks into `..data`, which points at
// a timestamped directory; an update writes a new directory and swaps `..data` to it in one
// rename, so a reader sees the old set of files or the new one, never a mix.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class MountedSecret {
  readonly dir: string;
  #version = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Mounts `files` (name → content) in a new temporary directory. */
  static create(files: Record<string, string>): MountedSecret {
    const secret = new MountedSecret(mkdtempSync(join(tmpdir(), 'meshpilot-secret-')));
    secret.update(files);
    for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(secret.dir, name));
    return secret;
  }

  /** The path of file `name`, as a pod reads it. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Replaces the content of every file at once (the same names as at creation). */
  update(files: Record<string, string>): void {
    const next = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${++this.#version}`;
    mkdirSync(join(this.dir, next));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, next, name), text);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
