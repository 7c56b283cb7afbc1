// `meshpilot validate`: checks manifest files offline against the same CRD schemas the API
// server enforces (crds/), so a mistake is found with its file and field path before apply.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './base/errors.ts';
import { parseYamlDocuments } from './api/manifests.ts';
import { formatIssue } from './api/schema/validate.ts';
import { API_VERSION, RESOURCES, type AdaptiveRoute } from './api/types.ts';
import { unsupportedFields } from './api/unsupported-fields.ts';
import { validateAdaptiveRoute, validateContactPlan } from './api/validate.ts';
import { MAX_OBJECT_BYTES } from './local/http-io.ts';
import type { StoredMeta } from './local/kube-object.ts';
import { metaProblems, metaTypeProblem, nameProblems } from './local/object-meta.ts';

export interface ManifestReport {
  file: string;
  /** `Kind/name`, or `document N` when the document has no usable kind or name. */
  object: string;
  /** Empty when valid; one line per problem, each naming its field path. */
  problems: string[];
  /** True for documents of kinds meshpilot does not own (left to the API server). */
  skipped: boolean;
  /** Fields a valid object sets that no output carries yet, each `field: what happens instead`. */
  notImplemented: string[];
}

const VALIDATORS = {
  [RESOURCES.adaptiveRoute.kind]: validateAdaptiveRoute,
  [RESOURCES.contactPlan.kind]: validateContactPlan,
} as const;

/**
 * What the API server checks of every object before its schema: ObjectMeta's types, name,
 * labels, annotations (256 KiB in all) and finalizers, and the size of the whole object, so
 * that "valid" here means the server takes it.
 */
function serverLimits(doc: unknown): string[] {
  const d = doc as { metadata?: unknown };
  const typeProblem = metaTypeProblem(d.metadata);
  if (typeProblem) return [typeProblem];
  const meta = (d.metadata ?? {}) as StoredMeta;
  const causes = [...(typeof meta.name === 'string' ? nameProblems(meta.name, 'dns-subdomain') : []), ...metaProblems(meta)];
  const problems = causes.map((c) => `${c.field ?? '(object)'}: ${c.message}`);
  const bytes = Buffer.byteLength(JSON.stringify(doc));
  if (bytes > MAX_OBJECT_BYTES) problems.push(`(object): Request entity too large: the object is ${bytes} bytes; the limit is ${MAX_OBJECT_BYTES}`);
  return problems;
}

/** The YAML/JSON files named by `paths` (a directory contributes its *.yaml, *.yml, *.json). */
function manifestFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new ConfigError(`${p}: no such file or directory`);
    }
    if (!isDir) return [p];
    return readdirSync(p).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(p, f));
  });
}

/**
 * Validates every document of every file. A file that is not valid YAML is reported as one
 * problem naming the file and line; it does not stop the other files from being checked.
 */
export function validateManifests(paths: string[]): ManifestReport[] {
  const reports: ManifestReport[] = [];
  for (const file of manifestFiles(paths)) {
    let docs: unknown[];
    try {
      docs = parseYamlDocuments(readFileSync(file, 'utf8'), file);
    } catch (e) {
      reports.push({ file, object: 'file', problems: [(e as Error).message], skipped: false, notImplemented: [] });
      continue;
    }
    docs.forEach((doc, i) => {
      const d = doc as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
      const object = typeof d.kind === 'string' && typeof d.metadata?.name === 'string' ? `${d.kind}/${d.metadata.name}` : `document ${i + 1}`;
      const validate = d.apiVersion === API_VERSION && typeof d.kind === 'string' ? VALIDATORS[d.kind as keyof typeof VALIDATORS] : undefined;
      if (!validate) {
        reports.push({ file, object, problems: [], skipped: true, notImplemented: [] });
        return;
      }
      const result = validate(doc);
      const problems = [...serverLimits(doc), ...(result.ok ? [] : result.issues.map(formatIssue))];
      const notImplemented = result.ok && d.kind === RESOURCES.adaptiveRoute.kind ? unsupportedFields((result.value as AdaptiveRoute).spec).map((u) => `${u.field}: ${u.message}`) : [];
      reports.push({ file, object, problems: [...new Set(problems)], skipped: false, notImplemented });
    });
  }
  return reports;
}
