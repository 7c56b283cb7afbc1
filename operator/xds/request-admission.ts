// What an ADS stream lets through before reading a request: a token bucket per stream (a node
// flooding requests loses the excess, said once when it starts and once when it stops), the
// size limit and the decoding, each refusal counted by reason.
import type { Logger } from 'pino';
import { REJECT_REASONS, type RejectReason } from './metrics.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { Decoded } from './wire.ts';

export class RequestAdmission {
  readonly #bucket: TokenBucket;
  readonly #perSecond: number;
  readonly #reject: (reason: RejectReason) => void;
  #dropped = 0;

  constructor(bucket: TokenBucket, perSecond: number, reject: (reason: RejectReason) => void) {
    this.#bucket = bucket;
    this.#perSecond = perSecond;
    this.#reject = reject;
  }

  /** The request's message, or undefined when it is refused (counted and logged against `node`). */
  admit(d: Decoded<unknown>, log: Logger, node: string | undefined): { message: unknown } | undefined {
    if (!this.#bucket.take()) {
      this.#reject(REJECT_REASONS.RATE_LIMITED);
      if (this.#dropped++ === 0) log.warn({ node, limit: this.#perSecond }, 'xDS node is flooding requests: dropping them until its rate falls');
      return undefined;
    }
    if (this.#dropped > 0) {
      log.warn({ node, dropped: this.#dropped }, 'xDS node is below the request rate limit again');
      this.#dropped = 0;
    }
    if (d.kind === 'oversized') {
      this.#reject(REJECT_REASONS.OVERSIZED);
      log.warn({ node, bytes: d.bytes }, 'xDS request larger than the limit: ignored');
      return undefined;
    }
    if (d.kind === 'malformed') {
      this.#reject(REJECT_REASONS.MALFORMED);
      log.warn({ node, bytes: d.bytes, error: d.error }, 'malformed xDS request: ignored');
      return undefined;
    }
    return { message: d.message };
  }
}
