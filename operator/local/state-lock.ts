// The lock that keeps two API servers off one state directory. Node has no flock(2), so the
// lock is a file created with O_EXCL that names its owner's pid; a lock whose owner no
// longer runs (the server was SIGKILLed) is stale and taken over.
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';
import { processAlive } from '../base/process-alive.ts';

interface LockContent {
  pid: number;
  token: string;
  acquiredAt: string;
}

/** An exclusive hold on a state directory. */
export class StateDirLock {
  readonly path: string;
  readonly #token: string;
  #released = false;

  private constructor(path: string, token: string) {
    this.path = path;
    this.#token = token;
  }

  /**
   * Takes the lock on `dir`.
   * @throws MeshpilotError STATE_LOCKED when a live process (this one included) holds it.
   */
  static acquire(dir: string): StateDirLock {
    const path = join(dir, 'lock');
    const token = randomUUID();
    const content: LockContent = { pid: process.pid, token, acquiredAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, JSON.stringify(content));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        return new StateDirLock(path, token);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let holder: Partial<LockContent> = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
      } catch {
        // A lock file torn by a crash between create and write has no live owner to protect.
      }
      if (typeof holder.pid === 'number' && processAlive(holder.pid)) {
        throw new MeshpilotError(
          ERROR_CODES.STATE_LOCKED,
          `state directory ${dir} is in use by another local API server (pid ${holder.pid}, lock ${path}): stop that process, or give this one another --state-dir`,
        );
      }
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    throw new MeshpilotError(ERROR_CODES.STATE_LOCKED, `could not lock state directory ${dir}: another server raced for ${path}; try again, or give this one another --state-dir`);
  }

  /** Gives the lock up; idempotent, and leaves a lock that another server took over alone. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      const holder = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LockContent>;
      if (holder.token === this.#token) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}
