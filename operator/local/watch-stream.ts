// One watch over HTTP: a chunked stream of newline-delimited `{"type","object"}` events.
// It starts with synthetic ADDED events for resourceVersion ""/"0", or replays the retained
// history after resourceVersion N; an N older than the history gets an ERROR event carrying
// a 410 Expired Status (the stream is already 200 by then, as on a real server). Optional
// BOOKMARKs carry only the current resourceVersion. The stream ends on timeoutSeconds, on
// client disconnect, and when the server closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from './kube-object.ts';
import type { ObjectStore } from './object-store.ts';
import { apiVersionOf, storageTypeOf } from './resource-registry.ts';
import type { ResourceType } from './resource-registry.ts';
import { ApiError, badRequest } from './status.ts';
import type { WatchEventType } from './watch-hub.ts';

export interface WatchRequest {
  type: ResourceType;
  version: string;
  /** undefined = all namespaces. */
  namespace?: string;
  matches(object: KubeObject): boolean;
  /** The `resourceVersion` query parameter as sent. */
  resourceVersion: string | null;
  timeoutSeconds: number;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  /** Renders an object for the wire (served version, Table row, ...). */
  render(object: KubeObject): unknown;
}

/** An open watch the server can end. */
export interface ActiveWatch {
  close(): void;
}

/**
 * Validates the request and starts streaming.
 * @throws ApiError 400 for a malformed resourceVersion (before any byte is written).
 */
export function startWatch(store: ObjectStore, req: IncomingMessage, res: ServerResponse, w: WatchRequest, onEnd: (watch: ActiveWatch) => void): ActiveWatch {
  const rvParam = w.resourceVersion ?? '';
  const fromRv = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
  if (fromRv !== undefined && (!Number.isInteger(fromRv) || fromRv < 0)) throw badRequest(`invalid resource version: ${rvParam}`);

  // The connection closes with the stream, so a server shutdown does not wait on a kept-alive socket.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked', Connection: 'close' });
  res.flushHeaders();
  const send = (type: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const storageType = storageTypeOf(w.type.group, w.type.plural);
  const inNamespace = (o: KubeObject) => w.namespace === undefined || o.metadata.namespace === w.namespace;
  let unsubscribe: () => void = () => undefined;
  const timers: NodeJS.Timeout[] = [];
  let ended = false;
  const watch: ActiveWatch = {
    close() {
      if (ended) return;
      ended = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      if (!res.writableEnded) res.end();
      onEnd(watch);
    },
  };
  req.on('close', () => watch.close());
  res.on('close', () => watch.close());
  res.on('error', () => watch.close());

  try {
    let from = fromRv;
    if (from === undefined) {
      for (const o of store.list(storageType, w.type.namespaced ? w.namespace : undefined)) if (w.matches(o)) send('ADDED', w.render(o));
      from = store.resourceVersion;
    }
    unsubscribe = store.hub.subscribe(from, { storageType, matches: (o) => inNamespace(o) && w.matches(o) }, (type, object) => {
      // Delivery runs inside another request's write: a failing watcher ends itself and
      // never fails that write.
      try {
        send(type, w.render(object));
      } catch {
        watch.close();
      }
    });
  } catch (e) {
    if (e instanceof ApiError) {
      send('ERROR', e.status);
      watch.close();
      return watch;
    }
    throw e;
  }
  if (w.bookmarks) {
    const bookmark = () => {
      send('BOOKMARK', { kind: w.type.kind, apiVersion: apiVersionOf(w.type.group, w.version), metadata: { resourceVersion: String(store.resourceVersion) } });
      timers[0] = setTimeout(bookmark, w.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(bookmark, w.bookmarkIntervalMs);
  }
  timers.push(setTimeout(() => watch.close(), w.timeoutSeconds * 1000));
  return watch;
}
