// The models a running operator serves, by the name spec.policy.modelRef.name gives: loaded
// once, reloaded when the files in the model's directory change, and refused once per version
// of the files (a broken model is reported at every decision, not re-read at every decision).
// A model name may be a symbolic link to a version directory (what `meshpilot promote`
// installs, models/.versions/NAME/VERSION): the link is resolved once per lookup and every
// file is read from the directory it pointed to then, so a link swapped mid-load yields the
// old model or the new one, never one's model.json with the other's weights.
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../base/errors.ts';
import { MODEL_LOAD_RESULTS, type PolicyMetrics } from '../metrics.ts';
import { loadModel, type LoadedModel } from './loaded-model.ts';

/** The repository's models/ directory. */
export const DEFAULT_MODELS_ROOT = fileURLToPath(new URL('../../../models', import.meta.url));

/** What spec.policy.modelRef.name may be (the CRD's pattern): one directory name, no path. */
const MODEL_NAME = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

/** Whether `name` is a model name a route may reference (lowercase letters, digits, "-", "." and "_"; no path). */
export function isModelName(name: string): boolean {
  return MODEL_NAME.test(name);
}

export type ModelLookup = { ok: true; model: LoadedModel } | { ok: false; error: ConfigError };

export interface ModelRegistryOptions {
  /** Where model directories live (default: the repository's models/). */
  root?: string;
  /** How a directory is loaded (default: loadModel). */
  load?: (dir: string) => Promise<LoadedModel>;
  /** Where loads and the loaded versions are counted. */
  metrics?: Pick<PolicyMetrics, 'loads' | 'info'>;
}

interface Entry {
  /** What the files looked like when this entry was made. */
  signature: string;
  lookup: ModelLookup;
}

/** Links followed before giving up (the kernel's own limit is 40). */
const MAX_LINKS = 40;

/**
 * `path` with its last component's symbolic links followed (a link to a link too), each
 * target read once: the directory the name stands for at this moment. Other components of
 * the path are left as they are. A path that is not a link, or does not exist, is returned
 * unchanged; a loop is returned as it stands (reading it then fails with ELOOP).
 */
export async function resolveModelDir(path: string): Promise<string> {
  let current = path;
  for (let i = 0; i < MAX_LINKS; i++) {
    try {
      if (!(await lstat(current)).isSymbolicLink()) return current;
      current = resolve(dirname(current), await readlink(current));
    } catch {
      return current;
    }
  }
  return current;
}

/**
 * The resolved directory, then the names, sizes, mtimes and inodes of its files: any write,
 * replacement or link swap changes it. `unreadable` is the error code when the directory
 * cannot be listed.
 */
async function signatureOf(dir: string): Promise<{ signature: string; unreadable?: string }> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { signature: `${dir}|unreadable:${code}`, unreadable: code };
  }
  const parts: string[] = [dir];
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      parts.push(`${name}:${s.size}:${s.mtimeMs}:${s.ino}`);
    } catch {
      parts.push(`${name}:gone`);
    }
  }
  return { signature: parts.join('|') };
}

export class ModelRegistry {
  readonly root: string;
  readonly #load: (dir: string) => Promise<LoadedModel>;
  readonly #metrics: Pick<PolicyMetrics, 'loads' | 'info'> | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Lookups under way, so that concurrent decisions share one load. */
  readonly #pending = new Map<string, Promise<ModelLookup>>();

  constructor(options: ModelRegistryOptions = {}) {
    this.root = options.root ?? DEFAULT_MODELS_ROOT;
    this.#load = options.load ?? loadModel;
    this.#metrics = options.metrics;
  }

  /**
   * The model `name` (a directory under the root, or a link to one), loaded or refused.
   * Resolves the link and checks the directory's files on every call, and reloads when the
   * link or the files changed (disposing the model it replaces);
   * unchanged files return the remembered model or refusal without reading them again. Never
   * rejects: a missing or broken model is `{ ok: false, error }` with a ConfigError naming the
   * file and the field.
   */
  get(name: string): Promise<ModelLookup> {
    const pending = this.#pending.get(name);
    if (pending) return pending;
    const lookup = this.#lookup(name).finally(() => this.#pending.delete(name));
    this.#pending.set(name, lookup);
    return lookup;
  }

  /** The refusal remembered for `name`, if its last lookup refused it. */
  refusal(name: string): ConfigError | undefined {
    const lookup = this.#entries.get(name)?.lookup;
    return lookup && !lookup.ok ? lookup.error : undefined;
  }

  /** Disposes every loaded model and forgets everything. Idempotent. */
  dispose(): void {
    for (const [name, entry] of this.#entries) {
      if (!entry.lookup.ok) continue;
      this.#metrics?.info.remove({ model: name, version: entry.lookup.model.metadata.version });
      entry.lookup.model.dispose();
    }
    this.#entries.clear();
  }

  async #lookup(name: string): Promise<ModelLookup> {
    if (!MODEL_NAME.test(name)) {
      return { ok: false, error: new ConfigError(`spec.policy.modelRef.name: "${name}" is not a model directory name (lowercase letters, digits, "-", "." and "_")`) };
    }
    const dir = join(this.root, name);
    // Resolved once: the signature and every file the load reads come from this directory.
    const resolved = await resolveModelDir(dir);
    const { signature, unreadable: code } = await signatureOf(resolved);
    const known = this.#entries.get(name);
    if (known && known.signature === signature) return known.lookup;
    let lookup: ModelLookup;
    if (code !== undefined) {
      const problem = code === 'ENOENT' ? 'no such model directory' : `cannot be read (${code})`;
      const link = resolved === dir ? '' : ` (a link to ${resolved})`;
      lookup = { ok: false, error: new ConfigError(`${dir}${link}: ${problem} (spec.policy.modelRef.name "${name}")`) };
    } else {
      try {
        lookup = { ok: true, model: await this.#load(resolved) };
      } catch (e) {
        const error = e instanceof ConfigError ? e : new ConfigError(`${dir}: the model cannot be loaded: ${(e as Error).message}`, { cause: e });
        lookup = { ok: false, error };
      }
    }
    if (known?.lookup.ok) {
      this.#metrics?.info.remove({ model: name, version: known.lookup.model.metadata.version });
      known.lookup.model.dispose();
    }
    this.#entries.set(name, { signature, lookup });
    this.#metrics?.loads.inc({ model: name, result: lookup.ok ? MODEL_LOAD_RESULTS.loaded : MODEL_LOAD_RESULTS.refused });
    if (lookup.ok) this.#metrics?.info.set({ model: name, version: lookup.model.metadata.version }, 1);
    return lookup;
  }
}
