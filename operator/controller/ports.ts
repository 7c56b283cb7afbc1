// What a reconciler needs of the world besides its own kind's writes: read access to an
// informer's cache and somewhere to record Events. The informers and the EventRecorder of
// operator/kube implement them; tests hand in maps and arrays.
import type { EventType, InvolvedObject } from '../kube/events.ts';

/** Read access to an informer's cache. */
export interface ObjectCache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

/** Where a reconciler records Events (the EventRecorder, which aggregates repeats as kubectl shows them). */
export interface EventSink {
  record(obj: InvolvedObject, type: EventType, reason: string, message: string): Promise<void>;
}
