// Events placed relative to each other (events[].after): "the retry storm starts 30 s after
// the outage ends" is how incidents compose, and a fixed startSec cannot say it once start
// times are jittered. An event with `after` starts at the start or end of the named event, as
// jittered in this episode, plus offsetSec, plus its own jitter; never before 0.

export interface Placeable {
  name?: string | undefined;
  startSec?: number | undefined;
  after?: { event: string; at: 'start' | 'end'; offsetSec: number } | undefined;
  durationSec: number;
}

/** The first placement problem (an unknown event name, a cycle), by event index; undefined when every event can be placed. */
export function eventPlacementProblem(events: readonly Placeable[]): { index: number; message: string } | undefined {
  const byName = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.name !== undefined && !byName.has(e.name)) byName.set(e.name, i);
  });
  for (let i = 0; i < events.length; i++) {
    const ref = events[i]!.after?.event;
    if (ref !== undefined && !byName.has(ref)) return { index: i, message: `no event is named "${ref}"` };
  }
  for (let i = 0; i < events.length; i++) {
    const seen = [i];
    for (let j = i; events[j]!.after; ) {
      j = byName.get(events[j]!.after!.event)!;
      if (j === i) return { index: i, message: `placement goes round in a circle: ${seen.map((k) => events[k]!.name ?? `events[${k}]`).join(' → ')} → ${events[i]!.name}` };
      if (seen.includes(j)) break;
      seen.push(j);
    }
  }
  return undefined;
}

/**
 * Start of each event, in seconds, in scenario order: its startSec, or the start or end of
 * the event it follows plus offsetSec; `jitterSec(i)` is added to each, and no event starts
 * before 0. The caller has checked eventPlacementProblem.
 */
export function eventStartsSec(events: readonly Placeable[], jitterSec: (i: number) => number = () => 0): number[] {
  const byName = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.name !== undefined && !byName.has(e.name)) byName.set(e.name, i);
  });
  const starts: (number | undefined)[] = events.map(() => undefined);
  const start = (i: number): number => {
    const known = starts[i];
    if (known !== undefined) return known;
    const e = events[i]!;
    let at = e.startSec ?? 0;
    if (e.after) {
      const j = byName.get(e.after.event)!;
      at = start(j) + (e.after.at === 'end' ? events[j]!.durationSec : 0) + e.after.offsetSec;
    }
    return (starts[i] = Math.max(0, at + jitterSec(i)));
  };
  return events.map((_, i) => start(i));
}
