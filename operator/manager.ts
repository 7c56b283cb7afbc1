// The operator's controller runtime in one object (controller-runtime's Manager): the
// shared informers for AdaptiveRoutes and ContactPlans, the two controllers and their
// reconcilers, the event recorder, and Lease leader election. Informers run on every
// replica (a standby keeps a warm cache); controllers run only while this replica leads.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from './base/clock.ts';
import { systemClock } from './base/clock.ts';
import type { AdaptiveRoute, ContactPlan } from './api/types.ts';
import type { KubeApi } from './kube/client.ts';
import { EventRecorder } from './kube/events.ts';
import { Informer } from './kube/informer.ts';
import { defaultIdentity, LeaderElector } from './kube/leader-election.ts';
import type { IntentSink } from './routing/intent-sink.ts';
import type { SyncReporter } from './routing/sync-status.ts';
import type { DecisionLog } from './telemetry/decision-log.ts';
import type { Telemetry } from './telemetry/telemetry.ts';
import { DecisionRecorder } from './adaptive-route/decision-recorder.ts';
import type { Decide } from './adaptive-route/decision-batcher.ts';
import { routesForContactPlan } from './adaptive-route/judge.ts';
import { AdaptiveRouteReconciler } from './adaptive-route/reconciler.ts';
import { ADAPTIVE_ROUTES } from './adaptive-route/resource.ts';
import { CONTACT_PLANS, ContactPlanReconciler } from './contact-plan/reconciler.ts';
import { Controller } from './controller/controller.ts';
import { startStandbyPublisher } from './adaptive-route/standby-publisher.ts';
import { ERROR_CODES, MeshpilotError } from './base/errors.ts';

export interface LeaderElectionConfig {
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** True when a lease holder is known to be gone (its lease is taken at once); see LeaderElectorOptions. */
  holderGone?: (identity: string) => boolean;
}

export interface ManagerOptions {
  api: KubeApi;
  /** Where computed intents go (the outputs, or a MemoryIntentSink). */
  sink: IntentSink;
  /** Per-route data-plane sync state (the xDS server); drives status.xds and XdsSynced. */
  sync?: SyncReporter;
  /** Route telemetry; it follows routes only while this replica leads. */
  telemetry?: Telemetry;
  /** Where the leader logs its decisions for offline training. */
  decisionLog?: DecisionLog;
  /** The policy behind the safety guard (none: routes serve their spec's weights). */
  decide?: Decide;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Namespace to watch; undefined watches all namespaces. */
  namespace?: string;
  /** Workers per controller. Default 4. */
  workers?: number;
  /** Informer resync period. Default 10 min. */
  resyncPeriodMs?: number;
  /** Unique replica identity (Lease holder, Event reportingInstance). Default `<hostname>_<random>`. */
  identity?: string;
  /** Leader election; omit to run the controllers unconditionally (single replica, tests). */
  leaderElection?: LeaderElectionConfig;
}

export class Manager {
  readonly routes: Informer<AdaptiveRoute>;
  readonly contactPlans: Informer<ContactPlan>;
  readonly routeController: Controller;
  readonly planController: Controller;
  readonly elector: LeaderElector | undefined;
  readonly identity: string;
  readonly #telemetry: Telemetry | undefined;
  readonly #log: Logger;
  #running = false;

  constructor(options: ManagerOptions) {
    const { api, logger, registry } = options;
    const clock = options.clock ?? systemClock;
    this.identity = options.identity ?? defaultIdentity();
    this.#log = logger.child({ component: 'manager' });
    const informerOptions = { logger, registry, clock, resyncPeriodMs: options.resyncPeriodMs };
    this.routes = new Informer<AdaptiveRoute>({
      ...informerOptions,
      resource: `${ADAPTIVE_ROUTES.plural}.${ADAPTIVE_ROUTES.group}`,
      listWatcher: api.listWatcher<AdaptiveRoute>(ADAPTIVE_ROUTES, options.namespace),
    });
    this.contactPlans = new Informer<ContactPlan>({
      ...informerOptions,
      resource: `${CONTACT_PLANS.plural}.${CONTACT_PLANS.group}`,
      listWatcher: api.listWatcher<ContactPlan>(CONTACT_PLANS, options.namespace),
    });
    const events = new EventRecorder({ store: api.eventStore(), logger, clock, registry, instance: this.identity });
    const workers = options.workers ?? 4;
    this.#telemetry = options.telemetry;

    this.routeController = new Controller({
      name: 'adaptiveroute',
      logger,
      registry,
      clock,
      workers,
      reconciler: new AdaptiveRouteReconciler({
        routes: this.routes,
        contactPlans: this.contactPlans,
        writer: api,
        events,
        sink: options.sink,
        ...(options.sync ? { sync: options.sync } : {}),
        ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        ...(options.decisionLog ? { decisions: new DecisionRecorder({ log: options.decisionLog, clock }) } : {}),
        ...(options.decide ? { decide: options.decide } : {}),
        clock,
      }),
    });
    // Every replica serves the data plane; a standby serves what the leader decided.
    if (options.leaderElection) {
      startStandbyPublisher({ routes: this.routes, sink: options.sink, isLeader: () => this.isLeader(), logger });
    }
    // A node ACKing or NACKing changes what the route's status must say.
    options.sync?.onSyncChange((key) => this.routeController.enqueue(key));
    // Data going stale (or coming back) changes the route's condition and what may be decided.
    options.telemetry?.onChange((key) => this.routeController.enqueue(key));
    this.routeController.watch(this.routes);
    // A plan appearing, changing or going away changes the verdict on the routes that use it.
    this.routeController.watch(this.contactPlans, (plan) => routesForContactPlan(this.routes, plan));

    this.planController = new Controller({
      name: 'contactplan',
      logger,
      registry,
      clock,
      workers,
      reconciler: new ContactPlanReconciler({ plans: this.contactPlans, writer: api, events, clock }),
    });
    this.planController.watch(this.contactPlans);

    const le = options.leaderElection;
    this.elector = le
      ? new LeaderElector({
          store: api.leaseStore(le.leaseNamespace, le.leaseName),
          identity: this.identity,
          logger,
          registry,
          clock,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          ...(le.holderGone ? { holderGone: le.holderGone } : {}),
          onStartedLeading: (signal) => this.#runControllers(signal),
        })
      : undefined;
  }

  /**
   * Starts the informers, then runs the controllers (under leader election when configured)
   * until `signal` aborts. Shutdown order: controllers stop taking work and finish what is in
   * flight, the lease is released, the informers stop. Resolves when all of that is done.
   * Throws if already running.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new MeshpilotError(ERROR_CODES.INTERNAL, 'manager is already running');
    this.#running = true;
    try {
      this.routes.start();
      this.contactPlans.start();
      this.#log.info({ identity: this.identity, leaderElection: this.elector !== undefined }, 'manager started');
      if (this.elector) await this.elector.run(signal);
      else await this.#runControllers(signal);
    } finally {
      await Promise.all([this.routes.stop(), this.contactPlans.stop()]);
      this.#running = false;
      this.#log.info('manager stopped');
    }
  }

  /** True once both informers have synced: the readiness probe. */
  ready(): boolean {
    return this.routes.hasSynced() && this.contactPlans.hasSynced();
  }

  /** True while this replica runs the controllers (always, without leader election, once running). */
  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.#running;
  }

  async #runControllers(signal: AbortSignal): Promise<void> {
    // Telemetry runs only under leadership and unfollows every route when it ends: a standby
    // decides nothing, so it reads nothing.
    await Promise.all([this.routeController.run(signal), this.planController.run(signal), this.#telemetry?.run(signal)]);
  }
}
