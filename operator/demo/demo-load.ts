// The demo's traffic: a proxyless gRPC client (grpc-js-xds) sending a steady rate of calls to
// xds:///<host>, so that the route's weights, retries and failover decide where each call
// goes, exactly as they would for a real client of the mesh.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import { DEMO_PATH, REGION_METADATA, deserializeReply, serializeRequest, type DemoReply } from './demo-protocol.ts';
import { registerDemoXdsClient } from './xds-registration.ts';

export interface DemoLoadOptions {
  xdsPort: number;
  host: string;
  clock: Clock;
  logger: Logger;
  /** Calls started per second (default 20). */
  ratePerSecond?: number;
  /** Deadline of each call (default 5 s). */
  deadlineMs?: number;
  /** At most this many calls in flight; the schedule skips a call rather than pile up (default 500). */
  maxInFlight?: number;
}

export interface DemoStats {
  /** Calls started. */
  sent: number;
  ok: number;
  failed: number;
  /** By the region that answered (failures the client could not attribute are only in `failed`). */
  byRegion: Record<string, { ok: number; failed: number }>;
  /** Failed calls by status code name. */
  failuresByCode: Record<string, number>;
}

export class DemoLoad {
  readonly #client: grpc.Client;
  readonly #stats: DemoStats = { sent: 0, ok: 0, failed: 0, byRegion: {}, failuresByCode: {} };
  readonly #inFlight = new Set<grpc.ClientUnaryCall>();
  readonly #stop = new AbortController();
  readonly #options: Required<Omit<DemoLoadOptions, 'logger'>> & { logger: Logger };
  #loop: Promise<void> = Promise.resolve();
  #lastError = '';

  private constructor(options: DemoLoadOptions) {
    this.#options = { ratePerSecond: 20, deadlineMs: 5_000, maxInFlight: 500, ...options };
    this.#client = new grpc.Client(`xds:///${options.host}`, grpc.credentials.createInsecure());
  }

  /**
   * Registers the process's xDS client for `xdsPort` (see registerDemoXdsClient, which may
   * throw ConfigError) and starts sending. Calls wait for the channel to be ready, so calls
   * sent before the xDS server serves the route succeed once it does, or fail at their deadline.
   */
  static start(options: DemoLoadOptions): DemoLoad {
    registerDemoXdsClient(options.xdsPort);
    const load = new DemoLoad(options);
    load.#loop = load.#run();
    return load;
  }

  stats(): DemoStats {
    return structuredClone(this.#stats);
  }

  async #run(): Promise<void> {
    const { clock, ratePerSecond, maxInFlight } = this.#options;
    const periodMs = 1000 / ratePerSecond;
    let next = clock.now();
    let seq = 0;
    while (!this.#stop.signal.aborted) {
      if (this.#inFlight.size < maxInFlight) this.#send(seq++);
      next += periodMs;
      const now = clock.now();
      // After a stall (a paused process), carry on at the rate rather than send a burst.
      if (next < now - 1000) next = now;
      try {
        await clock.sleep(Math.max(0, next - now), this.#stop.signal);
      } catch {
        return;
      }
    }
  }

  #send(seq: number): void {
    const stats = this.#stats;
    stats.sent += 1;
    const call = this.#client.makeUnaryRequest<{ seq: number }, DemoReply>(
      DEMO_PATH,
      serializeRequest,
      deserializeReply,
      { seq },
      new grpc.Metadata(),
      // grpc-js keeps deadlines on the wall clock, whatever clock paces the demo.
      { deadline: Date.now() + this.#options.deadlineMs, waitForReady: true } as grpc.CallOptions,
      (error, reply) => {
        this.#inFlight.delete(call);
        if (error || !reply) {
          // A backend's own failure carries its region in the trailers; a call that never reached one has none.
          const answeredBy = error?.metadata?.get(REGION_METADATA)[0];
          stats.failed += 1;
          const code = error ? (grpc.status[error.code] ?? String(error.code)) : 'NO_REPLY';
          stats.failuresByCode[code] = (stats.failuresByCode[code] ?? 0) + 1;
          if (typeof answeredBy === 'string') (stats.byRegion[answeredBy] ??= { ok: 0, failed: 0 }).failed += 1;
          const message = `${code}: ${error?.details ?? ''}`;
          if (message !== this.#lastError && !this.#stop.signal.aborted) {
            this.#lastError = message;
            this.#options.logger.debug({ code, details: error?.details, region: answeredBy }, 'demo call failed');
          }
        } else {
          stats.ok += 1;
          (stats.byRegion[reply.region] ??= { ok: 0, failed: 0 }).ok += 1;
        }
      },
    );
    this.#inFlight.add(call);
  }

  /** Stops sending, cancels the calls in flight and closes the channel. Idempotent. */
  async close(): Promise<void> {
    if (!this.#stop.signal.aborted) this.#stop.abort(new Error('demo load stopped'));
    await this.#loop;
    for (const call of this.#inFlight) call.cancel();
    this.#inFlight.clear();
    this.#client.close();
  }
}
