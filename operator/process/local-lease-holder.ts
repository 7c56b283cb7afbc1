// Lease identities that say which process on which host holds the lease, for `meshpilot
// local`: its control plane and operator live and die together, so after a SIGKILL the Lease
// in its state directory names a process that is gone, and the next start need not wait out
// the lease duration. Only a holder on this same host whose pid no longer runs is gone;
// anything else (another host, a live process, an identity of another form) is not.
import { processAlive } from '../base/process-alive.ts';

const LOCAL_IDENTITY = /^(.+)_pid(\d+)_[0-9a-z]+$/;

/** `<host>_pid<pid>_<random>`: an identity `localHolderGone` can judge. */
export function localIdentity(host: string, pid: number, random: string): string {
  return `${host}_pid${pid}_${random}`;
}

/** A `holderGone` check for LeaderElector: true when `identity` names a process of `host` that is gone. */
export function localHolderGone(host: string, self: number = process.pid, alive: (pid: number) => boolean = processAlive): (identity: string) => boolean {
  return (identity) => {
    const m = LOCAL_IDENTITY.exec(identity);
    if (!m || m[1] !== host) return false;
    const pid = Number(m[2]);
    // Our own pid under another identity: the holder was an earlier process that had it.
    return pid === self || !alive(pid);
  };
}
