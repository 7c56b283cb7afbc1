import { describe, expect, it } from '@jest/globals';
import { localHolderGone, localIdentity } from '../../../operator/process/local-lease-holder.ts';

describe('localHolderGone', () => {
  const alive = new Set([100, 200]);
  const gone = localHolderGone('laptop', 200, (pid) => alive.has(pid));

  it('is true only for a process of this host that no longer runs', () => {
    expect(gone(localIdentity('laptop', 4242, 'k3j4'))).toBe(true);
    expect(gone(localIdentity('laptop', 100, 'k3j4'))).toBe(false);
    expect(gone(localIdentity('other-host', 4242, 'k3j4'))).toBe(false);
  });

  it('counts a holder with our own pid under another identity as gone: an earlier process had the pid', () => {
    expect(gone(localIdentity('laptop', 200, 'old1'))).toBe(true);
  });

  it('never judges an identity of another form (a pod, a replica given --identity)', () => {
    expect(gone('meshpilot-operator-7c9f_abcd1234')).toBe(false);
    expect(gone('laptop_4242_k3j4')).toBe(false);
    expect(gone('')).toBe(false);
  });

  it('keeps host names with underscores and dashes whole', () => {
    expect(localHolderGone('my_host-1', 1, () => false)(localIdentity('my_host-1', 77, 'x'))).toBe(true);
    expect(localHolderGone('host-1', 1, () => false)(localIdentity('my_host-1', 77, 'x'))).toBe(false);
  });
});
