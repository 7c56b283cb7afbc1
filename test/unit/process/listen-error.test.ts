import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES, MeshpilotError } from '../../../operator/base/errors.ts';
import { listeningOn } from '../../../operator/process/listen-error.ts';

const at = { host: '0.0.0.0', port: 18000 };
const failing = (e: unknown) => () => Promise.reject(e);

describe('listeningOn', () => {
  it('names the server, the address, the reason and the flag for a bind failure', async () => {
    const e = Object.assign(new Error('listen EADDRINUSE: address already in use 0.0.0.0:18000'), { code: 'EADDRINUSE' });
    await expect(listeningOn('the xDS server', at, '--xds-addr', failing(e))).rejects.toThrow(
      'the xDS server cannot listen on 0.0.0.0:18000: the address is already in use (is another meshpilot running?) [EADDRINUSE]; choose another address with --xds-addr',
    );
  });

  it('passes any other start-up failure through unchanged, not blaming the address', async () => {
    const tls = new Error('error:068000DD:asn1 encoding routines::illegal padding');
    await expect(listeningOn('the local API server', at, '--api-port', failing(tls))).rejects.toBe(tls);
    const storage = new MeshpilotError(ERROR_CODES.STORAGE_FAILED, 'corrupt');
    await expect(listeningOn('the local API server', at, '--api-port', failing(storage))).rejects.toBe(storage);
  });
});
