// Records core/v1 Events about the objects meshpilot manages, the way `kubectl describe`
// shows them. Repeats of one (object, type, reason, message) bump `count` and
// `lastTimestamp` on the Event already written instead of creating a new one. Recording is
// best-effort: a failure is logged and counted, never thrown into the reconcile that asked.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { systemClock } from '../base/clock.ts';
import { isNotFound } from './api-error.ts';
import { counter } from '../base/metrics.ts';
import { namespaceOf } from '../base/object-key.ts';

export const EVENT_TYPES = { normal: 'Normal', warning: 'Warning' } as const;
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** A core/v1 Event, as much of it as meshpilot writes. */
export interface CoreEvent {
  apiVersion?: 'v1';
  kind?: 'Event';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  involvedObject: {
    apiVersion?: string;
    kind?: string;
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
  reason: string;
  message: string;
  type: EventType;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

/** Where Events go. The kube client implements it over HTTP; tests in memory. */
export interface EventStore {
  create(namespace: string, event: CoreEvent): Promise<CoreEvent>;
  /** JSON merge patch of an existing Event; rejects with a 404 KubeApiError when it is gone. */
  patch(namespace: string, name: string, patch: { count: number; lastTimestamp: string }): Promise<CoreEvent>;
}

export interface EventRecorderOptions {
  store: EventStore;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  /** `source.component` and `reportingComponent`. Default `meshpilot`. */
  component?: string;
  /** `reportingInstance` and `source.host`. Default the host (pod) name. */
  instance?: string;
  /** How many distinct events to remember for aggregation. Default 4096. */
  cacheSize?: number;
}

/** Longest message stored; the API server and kubectl are built for short messages. */
const MAX_MESSAGE = 1024;

/** metav1.Time: RFC 3339 in whole seconds. */
function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  readonly #store: EventStore;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #component: string;
  readonly #instance: string;
  readonly #cacheSize: number;
  readonly #metric;
  /** Aggregation key → the Event written for it (insertion order = least recently used first). */
  readonly #seen = new Map<string, { namespace: string; name: string; count: number }>();
  /** Aggregation key → the write in progress, so repeats of one event are applied in order. */
  readonly #pending = new Map<string, Promise<void>>();
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#store = options.store;
    this.#log = options.logger.child({ component: 'event-recorder' });
    this.#clock = options.clock ?? systemClock;
    this.#component = options.component ?? 'meshpilot';
    this.#instance = options.instance ?? hostname();
    this.#cacheSize = options.cacheSize ?? 4096;
    this.#metric = options.registry
      ? counter(options.registry, {
          name: 'meshpilot_events_total',
          help: 'Kubernetes Events recorded, by type and result (created, aggregated, failed).',
          labelNames: ['type', 'result'] as const,
        })
      : undefined;
  }

  /**
   * Records an Event about `obj`. `reason` is CamelCase (e.g. `InvalidSpec`). Resolves once
   * written or once the failure has been logged; never rejects.
   */
  async record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const m = obj.metadata;
    const key = JSON.stringify([obj.apiVersion, obj.kind, m.namespace, m.name, m.uid, type, reason, text]);
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#write(key, obj, type, reason, text));
    this.#pending.set(key, next);
    await next;
    if (this.#pending.get(key) === next) this.#pending.delete(key);
  }

  async #write(key: string, obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = kubeTime(this.#clock.now());
    const known = this.#seen.get(key);
    try {
      if (known) {
        try {
          await this.#store.patch(known.namespace, known.name, { count: known.count + 1, lastTimestamp: now });
          known.count += 1;
          this.#touch(key, known);
          this.#metric?.inc({ type, result: 'aggregated' });
          return;
        } catch (e) {
          // Events expire (one hour by default); start a new one.
          if (!isNotFound(e)) throw e;
          this.#seen.delete(key);
        }
      }
      const m = obj.metadata;
      const namespace = namespaceOf(m);
      const sequence = (BigInt(this.#clock.now()) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000)).toString(16);
      const event: CoreEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${m.name}.${sequence}`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.#component, host: this.#instance },
        reportingComponent: this.#component,
        reportingInstance: this.#instance,
      };
      const created = await this.#store.create(namespace, event);
      this.#touch(key, { namespace, name: created.metadata.name, count: 1 });
      this.#metric?.inc({ type, result: 'created' });
    } catch (e) {
      this.#metric?.inc({ type, result: 'failed' });
      this.#log.warn({ err: (e as Error).message, reason, object: `${obj.metadata.namespace}/${obj.metadata.name}` }, 'could not record event');
    }
  }

  #touch(key: string, entry: { namespace: string; name: string; count: number }): void {
    this.#seen.delete(key);
    this.#seen.set(key, entry);
    while (this.#seen.size > this.#cacheSize) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }
}
