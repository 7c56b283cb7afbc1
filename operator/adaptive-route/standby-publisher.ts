// Keeps a standby replica's outputs serving what the leader decided. The leader's reconciler
// publishes intents itself; while this replica does not lead, every route change seen by the
// informer republishes the intent recorded in status (intentFromStatus), and a deleted route
// is withdrawn. Publishing is idempotent, so the overlap at a leadership change is harmless.
import type { Logger } from 'pino';
import type { AdaptiveRoute } from '../api/types.ts';
import type { Informer } from '../kube/informer.ts';
import { intentFromStatus } from '../routing/intent-from-status.ts';
import type { IntentSink } from '../routing/intent-sink.ts';
import { namespacedKey } from '../base/object-key.ts';

export interface StandbyPublisherOptions {
  routes: Informer<AdaptiveRoute>;
  sink: IntentSink;
  /** While true the reconciler publishes and this stays quiet. */
  isLeader: () => boolean;
  logger: Logger;
}

/** Starts republishing; returns a function that stops it. */
export function startStandbyPublisher(options: StandbyPublisherOptions): () => void {
  const log = options.logger.child({ component: 'standby-publisher' });
  const keyOf = (r: AdaptiveRoute) => namespacedKey(r.metadata);
  const publish = (route: AdaptiveRoute) => {
    if (options.isLeader()) return;
    const intent = intentFromStatus(route);
    if (!intent) return;
    options.sink.publish(intent).catch((e: unknown) => log.warn({ route: intent.key, err: e }, 'standby could not publish the decided intent'));
  };
  return options.routes.addHandler({
    onAdd: publish,
    onUpdate: (_old, route) => publish(route),
    onDelete: (route) => {
      if (options.isLeader()) return;
      options.sink.withdraw(keyOf(route)).catch((e: unknown) => log.warn({ route: keyOf(route), err: e }, 'standby could not withdraw'));
    },
  });
}
