// Lease-based leader election (coordination.k8s.io/v1), after client-go's leaderelection:
// acquire a free or expired Lease, renew it every retry period, step down when renewals
// keep failing past the renew deadline, and release it on a graceful stop so a standby
// takes over at once. Expiry is judged by this replica's own clock from the moment it last
// saw the Lease change, never by comparing the holder's timestamps with ours (clock skew).
// Writes carry the resourceVersion they read, so of two racing candidates exactly one wins.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { counter, gauge } from '../base/metrics.ts';

/** The spec of a Lease as the elector reads and writes it. Times are RFC 3339 micro-time strings. */
export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
}

/** One named Lease. The kube client implements it over HTTP; unit tests in memory. */
export interface LeaseStore {
  /** The lease's description, for logs: `namespace/name`. */
  readonly description: string;
  /** The current Lease, or undefined when it does not exist. */
  get(): Promise<StoredLease | undefined>;
  /** Creates the Lease; rejects with a 409 KubeApiError if it already exists. */
  create(record: LeaseRecord): Promise<StoredLease>;
  /** Replaces the Lease's spec if it is still at `resourceVersion`; rejects with 409 otherwise. */
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

export interface LeaderElectorOptions {
  store: LeaseStore;
  /** Unique per replica; default `<hostname>_<random hex>`. */
  identity?: string;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Source of randomness for the acquire jitter, in [0, 1). */
  random?: () => number;
  /**
   * True when the holder `identity` is known to be gone for good (a process of this host
   * that no longer runs, see local-lease-holder.ts): its lease is taken without waiting for
   * it to expire. Leave unset wherever a holder's death cannot be proven.
   */
  holderGone?: (identity: string) => boolean;
  /** Release the lease when `run`'s signal aborts. Default true. */
  releaseOnCancel?: boolean;
  /**
   * Called on becoming leader. `signal` aborts when leadership ends; a returned promise is
   * awaited (for up to the renew deadline) before the lease is released or re-contested, so
   * that work in flight finishes before anyone else can start.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called after leadership ended and the leading work has finished. */
  onStoppedLeading?(): void;
  /** Called whenever a different holder is observed (including this replica). */
  onNewLeader?(identity: string): void;
}

/** The identity a replica uses when none is configured: host (pod) name plus a random suffix. */
export function defaultIdentity(host: string = hostname()): string {
  return `${host}_${randomBytes(4).toString('hex')}`;
}

/** Formats a clock time as Kubernetes MicroTime (RFC 3339 with microseconds). */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

export class LeaderElector {
  readonly identity: string;
  readonly #store: LeaseStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #releaseOnCancel: boolean;
  readonly #random: () => number;
  readonly #options: LeaderElectorOptions;
  readonly #status;
  readonly #transitions;

  #observed: StoredLease | undefined;
  /** Our clock's time when `#observed` last changed. */
  #observedAt = 0;
  #leading = false;
  #leader: string | undefined;
  /** The holder this replica last said it waits for (said once per holder). */
  #waitingFor: string | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#store = options.store;
    this.identity = options.identity ?? defaultIdentity();
    this.#clock = options.clock ?? systemClock;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#releaseOnCancel = options.releaseOnCancel ?? true;
    this.#random = options.random ?? Math.random;
    if (!(this.#retryPeriodMs < this.#renewDeadlineMs && this.#renewDeadlineMs < this.#leaseDurationMs)) {
      throw new RangeError('leader election needs retryPeriod < renewDeadline < leaseDuration');
    }
    this.#log = options.logger.child({ lease: this.#store.description, identity: this.identity });
    const registry = options.registry;
    this.#status = registry
      ? gauge(registry, {
          name: 'meshpilot_leader_election_status',
          help: '1 while this replica holds the lease, else 0.',
          labelNames: ['lease'] as const,
        })
      : undefined;
    this.#transitions = registry
      ? counter(registry, {
          name: 'meshpilot_leader_election_transitions_total',
          help: 'Changes of leadership of this replica, by event (acquired, lost, released).',
          labelNames: ['lease', 'event'] as const,
        })
      : undefined;
    this.#status?.set({ lease: this.#store.description }, 0);
  }

  /** True while this replica holds the lease (as of its last successful renewal). */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this replica last observed, if any. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /**
   * Contends for the lease until `signal` aborts: acquire, lead while renewals succeed, step
   * down on failure and contend again. On abort, ends the leading work, waits for it, and
   * releases the lease. Resolves once all of that is done; never rejects.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.#acquire(signal))) break;
      await this.#lead(signal);
    }
  }

  /** Tries every retry period until the lease is ours; false if `signal` aborted first. */
  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info('contending for leadership');
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew()) return true;
      try {
        // client-go jitters the acquire period by up to 20 % so candidates do not move in step.
        await this.#clock.sleep(this.#retryPeriodMs * (1 + 0.2 * this.#random()), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  async #lead(signal: AbortSignal): Promise<void> {
    this.#setLeading(true, 'acquired');
    const leading = new AbortController();
    let work: Promise<void> = Promise.resolve();
    try {
      work = Promise.resolve(this.#options.onStartedLeading(leading.signal)).catch((e: unknown) => {
        this.#log.error({ err: e }, 'leading work failed');
      });
    } catch (e) {
      this.#log.error({ err: e }, 'onStartedLeading threw');
    }
    let lastRenew = this.#clock.now();
    let released = false;
    while (!signal.aborted) {
      try {
        await this.#clock.sleep(this.#retryPeriodMs, signal);
      } catch {
        break;
      }
      const remaining = this.#renewDeadlineMs - (this.#clock.now() - lastRenew);
      const renewed = await this.#withDeadline(this.#tryAcquireOrRenew(), remaining);
      if (renewed) {
        lastRenew = this.#clock.now();
        continue;
      }
      if (this.#clock.now() - lastRenew >= this.#renewDeadlineMs) {
        this.#log.error({ renewDeadlineMs: this.#renewDeadlineMs }, 'failed to renew the lease in time: stepping down');
        break;
      }
    }
    // Stop the leading work before anyone else can take over, and give it time to finish:
    // on a graceful stop we still hold the lease (renewed at most a retry period ago); when
    // renewals failed, a standby may take over leaseDuration - renewDeadline from now.
    leading.abort(new Error('leadership ended'));
    this.#leading = false;
    const grace = signal.aborted ? this.#renewDeadlineMs : this.#leaseDurationMs - this.#renewDeadlineMs;
    await this.#withDeadline(work.then(() => true), grace);
    if (signal.aborted && this.#releaseOnCancel) released = await this.#release();
    this.#setLeading(false, released ? 'released' : 'lost');
    try {
      this.#options.onStoppedLeading?.();
    } catch (e) {
      this.#log.error({ err: e }, 'onStoppedLeading threw');
    }
  }

  /** Resolves the promise's value, or false once `ms` of clock time passed. */
  async #withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    const timer = new AbortController();
    try {
      return await Promise.race([p, this.#clock.sleep(ms, timer.signal).then(() => false)]);
    } finally {
      timer.abort();
    }
  }

  /** One attempt to take or keep the lease; true when this replica holds it afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#clock.now();
    const desired: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.#store.get();
      if (!current) {
        this.#remember(await this.#store.create(desired));
        return true;
      }
      if (!this.#observed || !sameRecord(this.#observed.record, current.record)) this.#remember(current);
      const holder = current.record.holderIdentity;
      const heldByOther = holder !== '' && holder !== this.identity;
      const expiresAt = this.#observedAt + current.record.leaseDurationSeconds * 1000;
      if (heldByOther && expiresAt > now) {
        if (!this.#options.holderGone?.(holder)) {
          this.#sayWaiting(holder, expiresAt, now);
          return false;
        }
        this.#log.info({ holder }, 'the lease holder is a process of this host that is gone: taking the lease over now');
      }
      this.#waitingFor = undefined;
      if (holder === this.identity) {
        desired.acquireTime = current.record.acquireTime;
        desired.leaseTransitions = current.record.leaseTransitions;
      } else {
        desired.leaseTransitions = current.record.leaseTransitions + 1;
      }
      this.#remember(await this.#store.update(desired, current.resourceVersion));
      return true;
    } catch (e) {
      // A conflict means another candidate wrote first; anything else is an API problem.
      this.#log.debug({ err: (e as Error).message }, 'lease attempt failed');
      return false;
    }
  }

  /** Says, once per holder, whose lease this replica waits for and until when. */
  #sayWaiting(holder: string, expiresAt: number, now: number): void {
    if (this.#waitingFor === holder) return;
    this.#waitingFor = holder;
    const at = new Date(expiresAt).toISOString();
    this.#log.info(
      { holder, expiresAt: at, waitSeconds: Math.ceil((expiresAt - now) / 1000) },
      `waiting for the lease held by ${holder}: it expires at ${at} unless its holder renews it`,
    );
  }

  #remember(lease: StoredLease): void {
    this.#observed = lease;
    this.#observedAt = this.#clock.now();
    const holder = lease.record.holderIdentity;
    if (holder && holder !== this.#leader) {
      this.#leader = holder;
      this.#log.info({ leader: holder }, 'new leader observed');
      try {
        this.#options.onNewLeader?.(holder);
      } catch (e) {
        this.#log.error({ err: e }, 'onNewLeader threw');
      }
    }
  }

  /** Gives the lease up so a standby can take it immediately; false if it could not. */
  async #release(): Promise<boolean> {
    const observed = this.#observed;
    if (!observed || observed.record.holderIdentity !== this.identity) return false;
    const now = microTime(this.#clock.now());
    try {
      this.#observed = await this.#store.update(
        {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: observed.record.leaseTransitions,
        },
        observed.resourceVersion,
      );
      this.#log.info('released the lease');
      return true;
    } catch (e) {
      this.#log.warn({ err: (e as Error).message }, 'could not release the lease; it will expire');
      return false;
    }
  }

  #setLeading(leading: boolean, event: 'acquired' | 'lost' | 'released'): void {
    this.#leading = leading;
    this.#status?.set({ lease: this.#store.description }, leading ? 1 : 0);
    this.#transitions?.inc({ lease: this.#store.description, event });
    this.#log.info({ event }, leading ? 'became leader' : 'stopped leading');
  }
}
