// Named health and readiness checks, as controller-runtime exposes them: /healthz answers
// whether the process should be restarted, /readyz whether it can do its job right now.
// `?verbose` lists each check, like kube-apiserver's probes.

export type Check = () => string | undefined | Promise<string | undefined>;

export interface ProbeResult {
  ok: boolean;
  body: string;
}

/** A set of checks; each returns undefined when healthy or a reason when not. */
export class Probes {
  readonly #checks = new Map<string, Check>();

  /** Adds or replaces the check called `name`. */
  set(name: string, check: Check): void {
    this.#checks.set(name, check);
  }

  async run(verbose: boolean): Promise<ProbeResult> {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of this.#checks) {
      let failure: string | undefined;
      try {
        failure = await check();
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
      }
      if (failure !== undefined) ok = false;
      lines.push(failure === undefined ? `[+]${name} ok` : `[-]${name} failed: ${failure}`);
    }
    if (!verbose && ok) return { ok, body: 'ok' };
    lines.push(ok ? 'check passed' : 'check failed');
    return { ok, body: `${lines.join('\n')}\n` };
  }
}
