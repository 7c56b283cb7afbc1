// What a person sees when a server cannot bind its address at start-up: which server, which
// address, why in words, and the flag that moves it. The servers themselves know nothing of
// flags; the composition root wraps their start with the flag that configured them.
import { ERROR_CODES, MeshpilotError } from '../base/errors.ts';

const WHY: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (is another meshpilot running?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface has that address',
};

function errnoOf(e: unknown): string | undefined {
  for (let cur: unknown = e; cur; cur = (cur as { cause?: unknown }).cause) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code in WHY) return code;
    const found = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(String((cur as { message?: unknown }).message ?? ''));
    if (found) return found[1];
  }
  return undefined;
}

/** Errors that already name the flag to change: passed through as they are. */
const NAMED = new WeakSet<Error>();

/** The LISTEN_FAILED error for `server` on `address`, naming `flag`. */
export function listenFailed(server: string, address: string, flag: string, e: unknown): MeshpilotError {
  const errno = errnoOf(e);
  const why = errno ? `${WHY[errno]} [${errno}]` : e instanceof Error ? e.message : String(e);
  const error = new MeshpilotError(ERROR_CODES.LISTEN_FAILED, `${server} cannot listen on ${address}: ${why}; choose another address with ${flag}`, { cause: e });
  NAMED.add(error);
  return error;
}

/**
 * Runs `start`; a failure to bind (an errno of binding, or a LISTEN_FAILED error) becomes
 * `listenFailed(server, address, flag)`. Anything else passes through unchanged: a server's
 * start does more than bind, and only a bind failure is the flag's to fix.
 */
export async function listeningOn<T>(server: string, address: { host: string; port: number }, flag: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const bind = e instanceof MeshpilotError ? e.code === ERROR_CODES.LISTEN_FAILED : errnoOf(e) !== undefined;
    if (!bind || NAMED.has(e as Error)) throw e;
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    throw listenFailed(server, `${host}:${address.port}`, flag, e);
  }
}
