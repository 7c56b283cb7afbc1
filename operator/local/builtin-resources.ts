// The built-in kinds the operator and kubectl use: core/v1 Namespaces and Events, and
// coordination.k8s.io/v1 Leases, with kube-apiserver's printer columns and field selectors.
import { ageOf } from './human-duration.ts';
import { isObject } from '../base/plain-value.ts';
import type { KubeObject } from './kube-object.ts';
import type { ColumnDefinition, ResourceType } from './resource-registry.ts';
import type { StatusCause } from './status.ts';
import { ageColumn, nameColumn } from './table.ts';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

function field(o: KubeObject, ...path: string[]): unknown {
  let cur: unknown = o;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return cur;
}

function column(name: string, description: string, priority = 0, type = 'string'): ColumnDefinition {
  return { name, type, format: '', description, priority };
}

export const namespaceType: ResourceType = {
  group: '',
  versions: ['v1'],
  storageVersion: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  shortNames: ['ns'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  statusSubresource: true,
  custom: false,
  tracksGeneration: false,
  nameFormat: 'dns-label',
  fieldLabels: { 'status.phase': (o) => str(field(o, 'status', 'phase')) },
  columns: [
    nameColumn,
    { definition: column('Status', 'The status of the namespace'), cell: (o) => str(field(o, 'status', 'phase')) },
    ageColumn,
  ],
  prepareCreate(o) {
    // A new namespace is Active and carries the `kubernetes` finalizer, whatever the client sent.
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
  },
};

function eventSource(o: KubeObject): string {
  const component = str(field(o, 'source', 'component')) || str(o.reportingComponent);
  const host = str(field(o, 'source', 'host')) || str(o.reportingInstance);
  return host ? `${component}, ${host}` : component;
}

function eventTimes(o: KubeObject, now: number): { first: string; last: string; count: number } {
  const first = o.firstTimestamp ? ageOf(o.firstTimestamp, now) : ageOf(o.eventTime, now);
  let last = o.lastTimestamp ? ageOf(o.lastTimestamp, now) : first;
  let count = typeof o.count === 'number' && o.count > 0 ? o.count : 1;
  const series = o.series;
  if (isObject(series)) {
    last = ageOf(series.lastObservedTime, now);
    count = typeof series.count === 'number' ? series.count : count;
  }
  return { first, last, count };
}

export const eventType: ResourceType = {
  group: '',
  versions: ['v1'],
  storageVersion: 'v1',
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  shortNames: ['ev'],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  custom: false,
  tracksGeneration: false,
  nameFormat: 'dns-subdomain',
  fieldLabels: {
    'involvedObject.kind': (o) => str(field(o, 'involvedObject', 'kind')),
    'involvedObject.namespace': (o) => str(field(o, 'involvedObject', 'namespace')),
    'involvedObject.name': (o) => str(field(o, 'involvedObject', 'name')),
    'involvedObject.uid': (o) => str(field(o, 'involvedObject', 'uid')),
    'involvedObject.apiVersion': (o) => str(field(o, 'involvedObject', 'apiVersion')),
    'involvedObject.resourceVersion': (o) => str(field(o, 'involvedObject', 'resourceVersion')),
    'involvedObject.fieldPath': (o) => str(field(o, 'involvedObject', 'fieldPath')),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(field(o, 'source', 'component')),
    type: (o) => str(o.type),
  },
  columns: [
    { definition: column('Last Seen', 'The last time this event was seen'), cell: (o, now) => eventTimes(o, now).last },
    { definition: column('Type', 'Type of this event (Normal, Warning)'), cell: (o) => str(o.type) },
    { definition: column('Reason', 'Why the action was taken'), cell: (o) => str(o.reason) },
    {
      definition: column('Object', 'The object this event is about'),
      cell: (o) => {
        const kind = str(field(o, 'involvedObject', 'kind')).toLowerCase();
        const name = str(field(o, 'involvedObject', 'name'));
        return name ? `${kind}/${name}` : kind;
      },
    },
    { definition: column('Subobject', 'The sub-object within the object', 1), cell: (o) => str(field(o, 'involvedObject', 'fieldPath')) },
    { definition: column('Source', 'The component reporting this event', 1), cell: eventSource },
    { definition: column('Message', 'A human-readable description of the status of this operation'), cell: (o) => str(o.message).trim() },
    { definition: column('First Seen', 'The first time this event was seen', 1), cell: (o, now) => eventTimes(o, now).first },
    { definition: column('Count', 'How many times this event was seen', 1), cell: (o, now) => eventTimes(o, now).count },
    { definition: column('Name', 'Name of the event', 1), cell: (o) => o.metadata.name ?? '' },
  ],
};

export const leaseType: ResourceType = {
  group: 'coordination.k8s.io',
  versions: ['v1'],
  storageVersion: 'v1',
  plural: 'leases',
  singular: 'lease',
  kind: 'Lease',
  listKind: 'LeaseList',
  shortNames: [],
  categories: [],
  namespaced: true,
  statusSubresource: false,
  custom: false,
  tracksGeneration: false,
  nameFormat: 'dns-subdomain',
  fieldLabels: {},
  columns: [
    nameColumn,
    { definition: column('Holder', 'The holder of the lease'), cell: (o) => str(field(o, 'spec', 'holderIdentity')) },
    ageColumn,
  ],
  validate(o) {
    const causes: StatusCause[] = [];
    const spec = isObject(o.spec) ? o.spec : {};
    const duration = spec.leaseDurationSeconds;
    if (duration !== undefined && (typeof duration !== 'number' || !Number.isInteger(duration) || duration <= 0)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', message: `Invalid value: ${JSON.stringify(duration)}: must be greater than 0` });
    }
    const transitions = spec.leaseTransitions;
    if (transitions !== undefined && (typeof transitions !== 'number' || !Number.isInteger(transitions) || transitions < 0)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.leaseTransitions', message: `Invalid value: ${JSON.stringify(transitions)}: must be greater than or equal to 0` });
    }
    return causes;
  },
};
