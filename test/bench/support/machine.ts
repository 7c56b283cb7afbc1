// The machine the benchmark shares with everything else on it: CPU time used by all
// processes (from /proc/stat), so that a bench can wait for other load to pass before it
// measures and report how much CPU others took while it measured.
import { readFileSync } from 'node:fs';

/** Milliseconds of CPU time all cores spent busy since boot (user, nice, system, irq, softirq, steal). */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) * 10; // USER_HZ is 100 on Linux
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the machine was less than `maxBusyCores` busy over a `windowMs` window (our own
 * workers being idle at that point, the load is someone else's), or `timeoutMs` passed.
 * Returns the busy cores of the last window.
 */
export async function waitForQuiet(o: {
  maxBusyCores: number;
  windowMs?: number;
  timeoutMs: number;
  signal: AbortSignal;
  onWait?: (busyCores: number) => void;
}): Promise<number> {
  const windowMs = o.windowMs ?? 500;
  const deadline = Date.now() + o.timeoutMs;
  let warned = false;
  for (;;) {
    const before = machineBusyMs();
    await sleep(windowMs);
    const busy = (machineBusyMs() - before) / windowMs;
    if (busy <= o.maxBusyCores || Date.now() >= deadline || o.signal.aborted) return busy;
    if (!warned) o.onWait?.(busy);
    warned = true;
  }
}
