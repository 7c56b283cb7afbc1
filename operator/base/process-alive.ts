// Whether a process of this host still runs: the one question a lock file or a lease holder
// on the same host can answer without waiting for a timeout.

/** True when `pid` runs (or exists under another user); false when no such process exists. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
