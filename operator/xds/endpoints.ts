// Where a destination's endpoints come from. The xDS server asks an EndpointResolver for the
// addresses behind each (service, port) of a route intent and rebuilds its snapshot whenever
// the resolver says an answer may have changed. Proxyless gRPC accepts only IP addresses in
// a ClusterLoadAssignment, so every resolver answers with IPs.
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../base/clock.ts';
import type { Logger } from 'pino';
import type { RouteIntent } from '../routing/route-intent.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export interface EndpointResolver {
  /** Current endpoints of service:port. A literal IP resolves to itself. */
  resolve(service: string, port: number): Promise<Endpoint[]>;
  /** Called whenever any resolution may have changed; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Sorted, without duplicates: equal answers compare equal. */
function normalise(endpoints: readonly Endpoint[]): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const e of endpoints) seen.set(`${e.address}#${e.port}`, { address: e.address, port: e.port });
  return [...seen.values()].sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
}

class Listeners {
  readonly #listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(): void {
    for (const l of [...this.#listeners]) l();
  }
}

/**
 * Endpoints from a fixed table (tests, and services outside DNS). `set` replaces one
 * service's endpoints and notifies listeners. A service missing from the table resolves to
 * itself when it is an IP literal, else to no endpoints.
 */
export class StaticEndpointResolver implements EndpointResolver {
  readonly #map = new Map<string, Endpoint[]>();
  readonly #listeners = new Listeners();

  constructor(map: Record<string, Endpoint[]> = {}) {
    for (const [service, endpoints] of Object.entries(map)) this.#map.set(service, normalise(endpoints));
  }

  async resolve(service: string, port: number): Promise<Endpoint[]> {
    const known = this.#map.get(service);
    if (known) return known.map((e) => ({ ...e }));
    return isIP(service) ? [{ address: service, port }] : [];
  }

  /** Replaces the endpoints of `service` (an empty list removes them all) and notifies listeners. */
  set(service: string, endpoints: Endpoint[]): void {
    this.#map.set(service, normalise(endpoints));
    this.#listeners.emit();
  }

  /** Forgets `service`, which then resolves like any unknown name. */
  delete(service: string): void {
    if (this.#map.delete(service)) this.#listeners.emit();
  }

  onChange(listener: () => void): () => void {
    return this.#listeners.add(listener);
  }
}

export interface DnsEndpointResolverOptions {
  /** How often every name asked for is looked up again (default 5000 ms). */
  refreshMs?: number;
  clock?: Clock;
  lookup?: typeof dnsPromises.lookup;
  /** A name nobody asked for during this many refreshes is forgotten (default 12). */
  forgetAfterRefreshes?: number;
}

interface DnsEntry {
  addresses: string[] | undefined;
  lastAsked: number;
  inflight: Promise<void> | undefined;
  /** Some caller has been given an answer: a change from now on must be announced. */
  served: boolean;
}

/**
 * Endpoints from DNS: every A and AAAA record of the service, each with the requested port.
 * Names are looked up again every `refreshMs`; a changed answer notifies listeners. A failed
 * lookup keeps the last good answer (a name never resolved has no endpoints). `close()`
 * stops the refresh loop; idempotent.
 */
export class DnsEndpointResolver implements EndpointResolver {
  readonly #refreshMs: number;
  readonly #clock: Clock;
  readonly #lookup: typeof dnsPromises.lookup;
  readonly #forgetAfterMs: number;
  readonly #entries = new Map<string, DnsEntry>();
  readonly #listeners = new Listeners();
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(opts: DnsEndpointResolverOptions = {}) {
    this.#refreshMs = opts.refreshMs ?? 5000;
    this.#clock = opts.clock ?? systemClock;
    this.#lookup = opts.lookup ?? dnsPromises.lookup;
    this.#forgetAfterMs = this.#refreshMs * (opts.forgetAfterRefreshes ?? 12);
  }

  async resolve(service: string, port: number): Promise<Endpoint[]> {
    if (isIP(service)) return [{ address: service, port }];
    let entry = this.#entries.get(service);
    if (!entry) {
      entry = { addresses: undefined, lastAsked: this.#clock.now(), inflight: undefined, served: false };
      this.#entries.set(service, entry);
      await this.#refresh(service, entry);
      this.#startLoop();
    }
    entry.lastAsked = this.#clock.now();
    if (entry.addresses === undefined && entry.inflight) await entry.inflight;
    entry.served = true;
    return (entry.addresses ?? []).map((address) => ({ address, port }));
  }

  onChange(listener: () => void): () => void {
    return this.#listeners.add(listener);
  }

  close(): void {
    this.#abort.abort(new Error('DnsEndpointResolver closed'));
  }

  #refresh(service: string, entry: DnsEntry): Promise<void> {
    entry.inflight ??= (async () => {
      try {
        const answers = await this.#lookup(service, { all: true, verbatim: true });
        const addresses = [...new Set(answers.map((a) => a.address))].sort();
        const before = entry.addresses;
        entry.addresses = addresses;
        if (entry.served && (before ?? []).join(',') !== addresses.join(',')) this.#listeners.emit();
      } catch {
        // Keep the last good answer: a DNS hiccup must not empty a cluster.
      } finally {
        entry.inflight = undefined;
      }
    })();
    return entry.inflight;
  }

  #startLoop(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = (async () => {
      while (!this.#abort.signal.aborted) {
        try {
          await this.#clock.sleep(this.#refreshMs, this.#abort.signal);
        } catch {
          return;
        }
        const now = this.#clock.now();
        const work: Promise<void>[] = [];
        for (const [service, entry] of this.#entries) {
          if (now - entry.lastAsked > this.#forgetAfterMs) this.#entries.delete(service);
          else work.push(this.#refresh(service, entry));
        }
        await Promise.all(work);
      }
    })();
  }
}

/**
 * The endpoints of every destination of `intent`, by region. A destination whose resolution
 * fails keeps `previous` (its last known endpoints, or none), and the failure is logged: a
 * DNS hiccup must not empty a cluster.
 */
export async function resolveDestinations(resolver: EndpointResolver, intent: RouteIntent, previous: ReadonlyMap<string, Endpoint[]> | undefined, log: Logger): Promise<Map<string, Endpoint[]>> {
  const entries = await Promise.all(
    intent.destinations.map(async (d): Promise<[string, Endpoint[]]> => {
      try {
        return [d.region, await resolver.resolve(d.service, d.port)];
      } catch (e) {
        log.warn({ route: intent.key, region: d.region, service: d.service, err: e }, 'endpoint resolution failed; keeping the last known endpoints');
        return [d.region, previous?.get(d.region) ?? []];
      }
    }),
  );
  return new Map(entries);
}
