// Credentials that follow their files. Kubernetes updates a mounted Secret by writing a new
// directory and swapping the `..data` symlink to it in one rename, so the files are watched
// through their directories, and a change is read only once it has settled. A reload hands
// the new credentials to the channel (a server's setSecureContext: new handshakes get them,
// established connections keep theirs). A reload that fails keeps the last good credentials
// serving, and says so in a metric and a log line.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.ts';
import { tlsMetrics } from './metrics.ts';
import { loadCredentials, type CredentialFiles, type Credentials, type FieldNames } from './credentials.ts';

export const RELOAD_RESULTS = { reloaded: 'reloaded', failed: 'failed' } as const;

export interface CredentialReloaderOptions {
  /** Names the channel in metrics and logs ("xds", "apiserver"). */
  channel: string;
  files: CredentialFiles;
  /** Field prefix of the files in error messages ("xds.tls")... */
  prefix?: string;
  /** ...or each file's own name there (a flag). */
  fieldNames?: FieldNames;
  requiredSan?: string;
  /** Receives every new set of credentials after the first. */
  onReload: (credentials: Credentials) => void;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** How long the files must be quiet before they are read (default 200 ms). */
  settleMs?: number;
}

export class CredentialReloader {
  readonly #options: CredentialReloaderOptions;
  readonly #watchers: FSWatcher[] = [];
  readonly #reloads;
  readonly #expiry;
  #current: Credentials;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Loads the credentials (ConfigError naming the file when they are unusable) and starts watching their files. */
  static start(options: CredentialReloaderOptions): CredentialReloader {
    const first = loadCredentials(options.files, options.clock.now(), options);
    return new CredentialReloader(options, first);
  }

  private constructor(options: CredentialReloaderOptions, first: Credentials) {
    this.#options = options;
    this.#current = first;
    const metrics = tlsMetrics(options.registry);
    this.#reloads = metrics.reloads;
    this.#expiry = metrics.expiry;
    this.#expiry.set({ channel: options.channel }, Date.parse(first.leaf.validTo) / 1000);
    const { certFile, keyFile, caFile } = options.files;
    const dirs = new Set([certFile, keyFile, ...(caFile ? [caFile] : [])].map((f) => dirname(f)));
    for (const dir of dirs) this.#watchers.push(watch(dir, () => this.#changed()));
  }

  /** The credentials in use. */
  get current(): Credentials {
    return this.#current;
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#options.settleMs ?? 200);
    this.#timer.unref();
  }

  /** Reads the files again; true when they held new, usable credentials (handed to onReload). */
  reload(): boolean {
    const o = this.#options;
    let next: Credentials;
    try {
      next = loadCredentials(o.files, o.clock.now(), o);
    } catch (e) {
      this.#reloads.inc({ channel: o.channel, result: RELOAD_RESULTS.failed });
      o.logger.error({ channel: o.channel, err: (e as Error).message, serving: this.#current.leaf.serialNumber }, 'TLS credentials changed but cannot be used: the last good ones keep serving');
      return false;
    }
    const c = this.#current;
    if (next.cert === c.cert && next.key === c.key && next.ca === c.ca) return false;
    this.#current = next;
    o.onReload(next);
    this.#reloads.inc({ channel: o.channel, result: RELOAD_RESULTS.reloaded });
    this.#expiry.set({ channel: o.channel }, Date.parse(next.leaf.validTo) / 1000);
    o.logger.info({ channel: o.channel, serial: next.leaf.serialNumber, was: c.leaf.serialNumber, validTo: next.leaf.validTo }, 'TLS credentials reloaded');
    return true;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers) w.close();
  }
}
