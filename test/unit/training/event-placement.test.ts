// Events placed relative to each other (events[].after).
import { describe, expect, it } from '@jest/globals';
import { EventTimeline } from '../../../training/sim/events.ts';
import { parseScenario } from '../../../training/sim/scenario-loader.ts';

const scenario = (events: string) =>
  parseScenario(`name: x\nepisode: {durationSec: 1200, decisionIntervalSec: 10}\nregions: [{name: a, capacityRps: 100, medianLatencyMs: 10, clientRps: 50}]\nevents:\n${events}`, 'placed.yaml');

describe('events placed after other events', () => {
  it('start at the end (or start) of the event they follow, after its jitter, plus offsetSec and their own jitter', () => {
    const s = scenario(
      '  - {name: outage, kind: outage, region: a, startSec: 100, durationSec: 60, startJitterSec: 50}\n' +
        '  - {name: storm, kind: errorBurst, region: a, errorRate: 0.3, durationSec: 30, after: {event: outage, offsetSec: 20}}\n' +
        '  - {kind: latencySpike, region: a, addedMs: 100, durationSec: 30, after: {event: storm, at: start, offsetSec: -10}, startJitterSec: 5}\n',
    );
    // Draws of 1, 0 and 0.5 (×2 - 1): +50 s on the outage, none on the others' first draws.
    const draws = [1, 0, 0.5];
    const timeline = new EventTimeline(s.events, new Map([['a', 0]]), () => draws.shift()!);
    expect(timeline.startsMs).toEqual([150_000, 230_000, 220_000]);
  });

  it('take one jitter draw per event, in scenario order, whatever the placement', () => {
    const draws = [0.25, 0.75, 1];
    const s = scenario(
      '  - {kind: outage, region: a, startSec: 100, durationSec: 60, startJitterSec: 40}\n' +
        '  - {name: o, kind: outage, region: a, startSec: 300, durationSec: 60}\n' +
        '  - {kind: outage, region: a, durationSec: 60, after: {event: o}, startJitterSec: 40}\n',
    );
    // 100 - 0.5 × 40; 300 (no jitter, its draw still taken); 300 + 60 + 1 × 40.
    expect(new EventTimeline(s.events, new Map([['a', 0]]), () => draws.shift()!).startsMs).toEqual([80_000, 300_000, 400_000]);
  });

  it('refuse an unknown name, a cycle, both startSec and after, a duplicate name, and a start past the episode, naming the field', () => {
    expect(() => scenario('  - {kind: outage, region: a, durationSec: 60, after: {event: nope}}\n')).toThrow('placed.yaml: events[0].after.event: no event is named "nope"');
    expect(() =>
      scenario('  - {name: p, kind: outage, region: a, durationSec: 60, after: {event: q}}\n  - {name: q, kind: outage, region: a, durationSec: 60, after: {event: p}}\n'),
    ).toThrow('events[0].after.event: placement goes round in a circle: p → q → p');
    expect(() => scenario('  - {name: p, kind: outage, region: a, startSec: 5, durationSec: 60, after: {event: p}}\n')).toThrow('events[0].startSec: give either startSec or after (not both)');
    expect(() => scenario('  - {kind: outage, region: a, durationSec: 60}\n')).toThrow('events[0].startSec: give either startSec or after (not both)');
    expect(() => scenario('  - {name: p, kind: outage, region: a, startSec: 5, durationSec: 60}\n  - {name: p, kind: outage, region: a, startSec: 9, durationSec: 60}\n')).toThrow('events[1].name: duplicates events[0].name "p"');
    expect(() => scenario('  - {name: p, kind: outage, region: a, startSec: 1000, durationSec: 150}\n  - {kind: outage, region: a, durationSec: 60, after: {event: p, offsetSec: 60}}\n')).toThrow(
      'events[1].after: must be before the end of the episode (1200 s); it starts at 1210 s',
    );
  });
});
