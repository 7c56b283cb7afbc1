// meta.k8s.io Table responses (what `kubectl get` asks for): column definitions from the
// resource's printer columns and one row per object, with the object itself reduced to
// PartialObjectMetadata unless the client asked for `includeObject=Object` or `None`.
import { ageOf } from './human-duration.ts';
import type { KubeObject } from './kube-object.ts';
import type { PrinterColumn, ResourceType } from './resource-registry.ts';

export const INCLUDE_OBJECT = ['None', 'Metadata', 'Object'] as const;
export type IncludeObject = (typeof INCLUDE_OBJECT)[number];

/** The Name column every kind starts with. */
export const nameColumn: PrinterColumn = {
  definition: {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
    priority: 0,
  },
  cell: (o) => o.metadata.name ?? '',
};

/** The Age column built-in kinds end with. */
export const ageColumn: PrinterColumn = {
  definition: {
    name: 'Age',
    type: 'string',
    format: '',
    description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
    priority: 0,
  },
  cell: (o, now) => ageOf(o.metadata.creationTimestamp, now),
};

export interface TableOptions {
  includeObject: IncludeObject;
  /** 'v1' or 'v1beta1', whichever the client accepted first. */
  tableVersion: string;
  now: number;
  listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number };
}

function rowObject(o: KubeObject, include: IncludeObject, tableVersion: string): unknown {
  if (include === 'Object') return o;
  if (include === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: o.metadata };
}

/** Renders objects (already converted to the requested version) as a Table. */
export function buildTable(type: ResourceType, objects: KubeObject[], options: TableOptions): Record<string, unknown> {
  const rows = objects.map((o) => {
    const row: Record<string, unknown> = { cells: type.columns.map((c) => c.cell(o, options.now) ?? null) };
    const obj = rowObject(o, options.includeObject, options.tableVersion);
    if (obj !== undefined) row.object = obj;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.tableVersion}`,
    metadata: options.listMeta,
    columnDefinitions: type.columns.map((c) => c.definition),
    rows,
  };
}
