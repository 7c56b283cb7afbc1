// The TelemetryFresh condition: whether the policy is reading fresh data, from which source,
// and how old the data is when it is not. One condition type, as Kubernetes conventions want
// (True: fresh; False: stale; Unknown: nothing to judge yet), with the reasons telling apart
// stale data, data that never came, and a route with no source at all.
import { formatDuration } from '../base/duration.ts';
import type { Condition } from '../api/types.ts';
import { describeAge, type TelemetryStatus } from '../telemetry/telemetry.ts';
import { CONDITION_TYPES, TELEMETRY_REASONS } from '../api/condition-types.ts';

type Computed = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * The condition for `status`. The age in a stale message moves every second; when nothing but
 * the age changed since `previous`, the previous message is kept so status is not rewritten
 * on every decision (the lag metric carries the live age).
 */
export function telemetryCondition(status: TelemetryStatus, previous?: Condition): Computed {
  const sources = status.sources.join(', ');
  const staleAfter = `staleAfter ${formatDuration(status.staleAfterMs)}`;
  const problems = status.problems.length ? `; ${status.problems.join('; ')}` : '';
  let next: Computed & { stable: string };
  switch (status.state) {
    case 'unconfigured':
      next = {
        type: CONDITION_TYPES.telemetryFresh,
        status: 'Unknown',
        reason: TELEMETRY_REASONS.noSource,
        message:
          'no telemetry source: set spec.telemetry.prometheus, .kafka or .scrape, or start the operator with --prometheus-url; ' +
          'decisions hold the last good intent',
        stable: '',
      };
      break;
    case 'awaiting':
      next = {
        type: CONDITION_TYPES.telemetryFresh,
        status: 'Unknown',
        reason: TELEMETRY_REASONS.awaiting,
        message: `${sources}: no data yet for ${status.staleRegions.join(', ')}${problems}`,
        stable: '',
      };
      break;
    case 'fresh':
      next = {
        type: CONDITION_TYPES.telemetryFresh,
        status: 'True',
        reason: TELEMETRY_REASONS.fresh,
        message: `${sources}: every region reported within ${staleAfter}`,
        stable: '',
      };
      break;
    case 'stale': {
      const head = `${sources}: no fresh data for ${status.staleRegions.join(', ')}`;
      next = {
        type: CONDITION_TYPES.telemetryFresh,
        status: 'False',
        reason: TELEMETRY_REASONS.stale,
        message: `${head} (${describeAge(status.staleAgeMs)}, ${staleAfter}); decisions hold the last good intent${problems}`,
        stable: `${head} (`,
      };
      break;
    }
  }
  const { stable, ...condition } = next;
  if (
    stable &&
    previous &&
    previous.status === condition.status &&
    previous.reason === condition.reason &&
    previous.message.startsWith(stable) &&
    previous.message.endsWith(problems ? problems : 'intent')
  ) {
    return { ...condition, message: previous.message };
  }
  return condition;
}
