// The models a running operator serves, by the name spec.policy.modelRef.name gives: loaded
// once, reloaded when the files in the model's directory change, and refused once per version
// of the files (a broken model is reported at every decision, not re-read at every decision).
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../api/errors.ts';
import { loadModel, type LoadedModel } from './model.ts';

/** The repository's models/ directory. */
export const DEFAULT_MODELS_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

/** What spec.policy.modelRef.name may be (the CRD's pattern): one directory name, no path. */
const MODEL_NAME = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

export type ModelLookup = { ok: true; model: LoadedModel } | { ok: false; error: ConfigError };

export interface ModelRegistryOptions {
  /** Where model directories live (default: the repository's models/). */
  root?: string;
  /** How a directory is loaded (default: loadModel). */
  load?: (dir: string) => Promise<LoadedModel>;
}

interface Entry {
  /** What the files looked like when this entry was made. */
  signature: string;
  lookup: ModelLookup;
}

/** Names, sizes, mtimes and inodes of the directory's files: any write or replacement changes it. */
async function signatureOf(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  const parts: string[] = [];
  for (const name of names) {
    try {
      const s = await stat(join(dir, name));
      parts.push(`${name}:${s.size}:${s.mtimeMs}:${s.ino}`);
    } catch {
      parts.push(`${name}:gone`);
    }
  }
  return parts.join('|');
}

export class ModelRegistry {
  readonly root: string;
  readonly #load: (dir: string) => Promise<LoadedModel>;
  readonly #entries = new Map<string, Entry>();
  /** Lookups under way, so that concurrent decisions share one load. */
  readonly #pending = new Map<string, Promise<ModelLookup>>();

  constructor(options: ModelRegistryOptions = {}) {
    this.root = options.root ?? DEFAULT_MODELS_ROOT;
    this.#load = options.load ?? loadModel;
  }

  /**
   * The model `name` (a directory under the root), loaded or refused. Checks the directory's
   * files on every call and reloads when they changed (disposing the model it replaces);
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
    for (const entry of this.#entries.values()) if (entry.lookup.ok) entry.lookup.model.dispose();
    this.#entries.clear();
  }

  async #lookup(name: string): Promise<ModelLookup> {
    if (!MODEL_NAME.test(name)) {
      return { ok: false, error: new ConfigError(`spec.policy.modelRef.name: "${name}" is not a model directory name (lowercase letters, digits, "-", "." and "_")`) };
    }
    const dir = join(this.root, name);
    const signature = await signatureOf(dir);
    const known = this.#entries.get(name);
    if (known && known.signature === signature) return known.lookup;
    let lookup: ModelLookup;
    if (signature.startsWith('unreadable:')) {
      const code = signature.slice('unreadable:'.length);
      const problem = code === 'ENOENT' ? 'no such model directory' : `cannot be read (${code})`;
      lookup = { ok: false, error: new ConfigError(`${dir}: ${problem} (spec.policy.modelRef.name "${name}")`) };
    } else {
      try {
        lookup = { ok: true, model: await this.#load(dir) };
      } catch (e) {
        const error = e instanceof ConfigError ? e : new ConfigError(`${dir}: the model cannot be loaded: ${(e as Error).message}`, { cause: e });
        lookup = { ok: false, error };
      }
    }
    if (known?.lookup.ok) known.lookup.model.dispose();
    this.#entries.set(name, { signature, lookup });
    return lookup;
  }
}
