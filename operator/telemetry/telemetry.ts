// The telemetry side of the operator as the controller sees it: follow a route (its sources
// start reading, its windows start filling), read its snapshot, and learn when its freshness
// flips so the route is reconciled at once rather than at its next decision tick.
// Which sources follow a route comes from its spec; a route that names none falls back to the
// operator's default sources (its configured Prometheus), and with none of those it has no
// telemetry at all: a state the condition reports, never zeros.
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import { formatDuration } from '../base/duration.ts';
import { SOURCE_KINDS } from './types.ts';
import type { RouteSnapshot, RouteTarget, SourceKind, TelemetrySource } from './types.ts';
import type { WindowStore } from './window-store.ts';

export type TelemetryState = 'fresh' | 'stale' | 'awaiting' | 'unconfigured';

/** Where a route's telemetry stands, in the words a condition needs. */
export interface TelemetryStatus {
  state: TelemetryState;
  sources: SourceKind[];
  /** Regions without fresh data. */
  staleRegions: string[];
  /** Age of the oldest newest-data among stale regions (null: a region never reported). */
  staleAgeMs: number | null;
  staleAfterMs: number;
  /** What the sources say is wrong, one line per source with a problem. */
  problems: string[];
}

export interface TelemetryOptions {
  store: WindowStore;
  sources: Partial<Record<SourceKind, TelemetrySource>>;
  /** Sources for routes whose spec names none (e.g. ['prometheus'] when --prometheus-url is set). */
  defaultSources?: SourceKind[];
  clock: Clock;
  logger: Logger;
  /** How often freshness is re-checked for flips (default 1 s). */
  checkIntervalMs?: number;
}

/** The sources a route's spec asks for, or the defaults when it names none. */
export function sourcesFor(target: RouteTarget, defaults: readonly SourceKind[]): SourceKind[] {
  const t = target.telemetry;
  const named = SOURCE_KINDS.filter((kind) => t[kind] !== undefined);
  return named.length > 0 ? named : [...defaults];
}

export class Telemetry {
  readonly #store: WindowStore;
  readonly #sources: Partial<Record<SourceKind, TelemetrySource>>;
  readonly #defaults: SourceKind[];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #checkMs: number;
  /** Followed routes and the sources following each. */
  readonly #following = new Map<string, SourceKind[]>();
  /** Last state seen per route, to notice flips. */
  readonly #lastState = new Map<string, TelemetryState>();
  readonly #listeners: ((key: string) => void)[] = [];

  constructor(options: TelemetryOptions) {
    this.#store = options.store;
    this.#sources = options.sources;
    this.#defaults = options.defaultSources ?? [];
    this.#clock = options.clock;
    this.#log = options.logger.child({ component: 'telemetry' });
    this.#checkMs = options.checkIntervalMs ?? 1000;
  }

  /** Starts or updates following `target`. Idempotent: the same target again changes nothing. */
  follow(target: RouteTarget): void {
    const kinds = sourcesFor(target, this.#defaults).filter((kind) => this.#sources[kind] !== undefined);
    const before = this.#following.get(target.key);
    const previousTarget = this.#store.target(target.key);
    if (before && previousTarget && sameTarget(previousTarget, target) && sameKinds(before, kinds)) return;
    this.#store.track(target);
    for (const kind of before ?? []) if (!kinds.includes(kind)) this.#sources[kind]!.unwatch(target.key);
    for (const kind of kinds) this.#sources[kind]!.watch(target);
    this.#following.set(target.key, kinds);
    if (!before) this.#log.info({ route: target.key, sources: kinds }, 'following route telemetry');
  }

  unfollow(key: string): void {
    const kinds = this.#following.get(key);
    if (!kinds) return;
    for (const kind of kinds) this.#sources[kind]!.unwatch(key);
    this.#following.delete(key);
    this.#lastState.delete(key);
    this.#store.untrack(key);
    this.#log.info({ route: key }, 'stopped following route telemetry');
  }

  /** Stops following every route (leadership lost: only the leader reads telemetry). */
  unfollowAll(): void {
    for (const key of [...this.#following.keys()]) this.unfollow(key);
  }

  following(): string[] {
    return [...this.#following.keys()];
  }

  snapshot(key: string): RouteSnapshot | undefined {
    return this.#store.snapshot(key);
  }

  status(key: string): TelemetryStatus | undefined {
    const kinds = this.#following.get(key);
    const target = this.#store.target(key);
    const freshness = this.#store.freshness(key);
    if (!kinds || !target || !freshness) return undefined;
    const problems = kinds.flatMap((kind) => {
      const problem = this.#sources[kind]!.problem(key);
      return problem ? [problem] : [];
    });
    const everReported = freshness.staleRegions.length < target.regions.length || freshness.oldestAgeMs !== null;
    const state: TelemetryState =
      kinds.length === 0 ? 'unconfigured' : freshness.fresh ? 'fresh' : everReported ? 'stale' : 'awaiting';
    return {
      state,
      sources: kinds,
      staleRegions: freshness.staleRegions,
      staleAgeMs: freshness.oldestAgeMs,
      staleAfterMs: target.staleAfterMs,
      problems,
    };
  }

  /** Calls `listener(key)` whenever a followed route's telemetry state flips. */
  onChange(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  /** Re-checks freshness every check interval until `signal` aborts, then unfollows everything. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        this.check();
        await this.#clock.sleep(this.#checkMs, signal).catch(() => undefined);
      }
    } finally {
      this.unfollowAll();
    }
  }

  /** One freshness pass: notifies listeners of every route whose state changed since the last. */
  check(): void {
    for (const key of this.#following.keys()) {
      const state = this.status(key)?.state;
      if (!state || this.#lastState.get(key) === state) continue;
      const before = this.#lastState.get(key);
      this.#lastState.set(key, state);
      if (before !== undefined) this.#log.info({ route: key, from: before, to: state }, 'route telemetry changed state');
      for (const listener of this.#listeners) listener(key);
    }
  }

  async close(): Promise<void> {
    this.unfollowAll();
    await Promise.all(Object.values(this.#sources).map((s) => s.close()));
  }
}

function sameKinds(a: readonly SourceKind[], b: readonly SourceKind[]): boolean {
  return a.length === b.length && a.every((k, i) => b[i] === k);
}

function sameTarget(a: RouteTarget, b: RouteTarget): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** "kafka 75s old" style age for conditions; "never" when nothing was ever seen. */
export function describeAge(ageMs: number | null): string {
  return ageMs === null ? 'no data yet' : `newest data ${formatDuration(Math.round(ageMs / 1000) * 1000)} old`;
}
