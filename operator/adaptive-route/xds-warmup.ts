// When a starting replica's xDS server may answer proxies: once the route cache has synced
// and every route whose status records a decided intent for xDS is published (by the standby
// publisher, or as leader by the reconciler), so that a proxy that reconnects after a restart
// is never told its listeners do not exist. Bounded: after `timeoutMs` the server answers
// anyway, and says which routes were missing.
import type { Logger } from 'pino';
import type { AdaptiveRoute } from '../api/types.ts';
import type { Informer } from '../kube/informer.ts';
import { intentFromStatus } from '../routing/intent-from-status.ts';
import { namespacedKey } from '../base/object-key.ts';

export interface WarmupTarget {
  serves(routeKey: string): boolean;
  flush(): Promise<void>;
  markLoaded(): void;
}

/** Resolves once `xds` is marked loaded (or `signal` aborted first). Never rejects. */
export async function warmUpXds(options: {
  routes: Informer<AdaptiveRoute>;
  xds: WarmupTarget;
  logger: Logger;
  signal: AbortSignal;
  timeoutMs?: number;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (options.timeoutMs ?? 30_000);
  const missing = (): string[] =>
    options.routes
      .list()
      .filter((r) => intentFromStatus(r)?.outputs.xds === true)
      .map((r) => namespacedKey(r.metadata))
      .filter((key) => !options.xds.serves(key));
  while (!options.signal.aborted) {
    const synced = options.routes.hasSynced();
    const waitingFor = synced ? missing() : undefined;
    if (waitingFor?.length === 0) break;
    if (now() >= deadline) {
      options.logger.warn(
        { missing: waitingFor?.slice(0, 20), synced },
        synced ? 'answering xDS proxies before every decided route was published again' : 'answering xDS proxies before the route cache synced',
      );
      break;
    }
    await sleep(options.pollMs ?? 50);
  }
  if (options.signal.aborted) return;
  await options.xds.flush().catch(() => undefined);
  options.xds.markLoaded();
}
