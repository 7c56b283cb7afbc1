import { localConfig, operatorConfig } from '../../../operator/process/config.ts';
import { ConfigError } from '../../../operator/base/errors.ts';

/** The serving certificate --xds-addr needs (its files are read at start, not here). */
const TLS = ['--xds-tls-cert', '/tls/tls.crt', '--xds-tls-key', '/tls/tls.key'];

describe('operatorConfig', () => {
  it('defaults to controller-runtime lease timings and the standard ports', () => {
    const c = operatorConfig(TLS, { POD_NAME: 'op-0', POD_NAMESPACE: 'meshpilot-system' });
    expect(c.metricsAddr).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.healthAddr).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(c.leaderElection).toMatchObject({
      enabled: true,
      leaseName: 'meshpilot-operator',
      leaseNamespace: 'meshpilot-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(c.leaderElection.identity).toMatch(/^op-0_[a-z0-9]+$/);
    expect(c.namespace).toBeUndefined();
  });

  it('takes flags over MESHPILOT_* variables over defaults', () => {
    const c = operatorConfig([...TLS, '--workers', '8', '--metrics-addr', '127.0.0.1:9090'], {
      MESHPILOT_WORKERS: '2',
      MESHPILOT_LOG_LEVEL: 'debug',
      MESHPILOT_LEADER_ELECT: 'false',
    });
    expect(c.workers).toBe(8);
    expect(c.metricsAddr).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(c.logLevel).toBe('debug');
    expect(c.leaderElection.enabled).toBe(false);
  });

  it('names the flag and the variable of a bad value', () => {
    expect(() => operatorConfig(['--lease-duration', 'soon'], {})).toThrow(/--lease-duration \(or MESHPILOT_LEASE_DURATION\): "soon" is not a duration/);
    expect(() => operatorConfig(TLS, { MESHPILOT_WORKERS: '0' })).toThrow(/--workers \(or MESHPILOT_WORKERS\)/);
    expect(() => operatorConfig(['--metrics-addr', 'localhost'], {})).toThrow(/--metrics-addr.*HOST:PORT/);
  });

  it('refuses unknown flags and inconsistent lease timings', () => {
    expect(() => operatorConfig(['--no-such-flag'], {})).toThrow(ConfigError);
    expect(() => operatorConfig([...TLS, '--lease-duration', '5s', '--renew-deadline', '10s'], {})).toThrow(/--renew-deadline must be shorter than --lease-duration/);
    expect(() => operatorConfig([...TLS, '--retry-period', '10s'], {})).toThrow(/--retry-period must be shorter than --renew-deadline/);
  });
});

describe('operatorConfig: the xDS channel', () => {
  it('serves xDS over pq-hybrid TLS on :18000 by default, with mTLS once a client CA is named, and no plaintext', () => {
    const c = operatorConfig(TLS, {});
    expect(c.xdsAddr).toEqual({ host: '0.0.0.0', port: 18000 });
    expect(c.xdsTls).toEqual({ profile: 'pq-hybrid', files: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } });
    expect(c.xdsPlaintextAddr).toBeUndefined();
    const m = operatorConfig([...TLS, '--xds-tls-client-ca', '/tls/ca.crt', '--xds-tls-profile', 'pq-only'], {});
    expect(m.xdsTls).toEqual({ profile: 'pq-only', files: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key', caFile: '/tls/ca.crt' } });
  });

  it('refuses a TLS address without a certificate, saying how to serve plaintext instead', () => {
    expect(() => operatorConfig([], {})).toThrow(/--xds-tls-cert and --xds-tls-key are required: --xds-addr serves xDS over TLS only.*--xds-plaintext-addr and set --xds-addr=none/);
    expect(() => operatorConfig(['--xds-tls-cert', '/tls/tls.crt'], {})).toThrow('--xds-tls-key is required with --xds-tls-cert');
    expect(() => operatorConfig([...TLS, '--xds-tls-profile', 'pq-maybe'], {})).toThrow(/--xds-tls-profile.*pq-maybe/);
  });

  it('serves plaintext only on an address given for it', () => {
    const c = operatorConfig(['--xds-addr', 'none', '--xds-plaintext-addr', '127.0.0.1:18001'], {});
    expect(c.xdsAddr).toBeUndefined();
    expect(c.xdsPlaintextAddr).toEqual({ host: '127.0.0.1', port: 18001 });
    expect(() => operatorConfig(['--xds-addr', 'none'], {})).toThrow('--xds-addr is none and no --xds-plaintext-addr is given');
  });
});

describe('localConfig', () => {
  it('issues its own xDS certificates and serves the demo a loopback plaintext address', () => {
    const c = localConfig([], {});
    expect(c.xdsTls.files).toBeUndefined();
    expect(c.xdsPlaintextAddr).toEqual({ host: '127.0.0.1', port: 18001 });
    expect(() => localConfig(['--xds-plaintext-addr', 'none'], {})).toThrow(/--demo needs --xds-plaintext-addr/);
    expect(localConfig(['--xds-plaintext-addr', 'none', '--demo', 'false'], {}).xdsPlaintextAddr).toBeUndefined();
  });

  it('keeps state in .state/local and applies the examples by default', () => {
    const c = localConfig([], {});
    expect(c).toMatchObject({ stateDir: '.state/local', apiPort: 0, applyExamples: true });
    expect(localConfig(['--examples', 'false', '--state-dir', '/tmp/x'], {})).toMatchObject({ stateDir: '/tmp/x', applyExamples: false });
  });

  it('runs the demo brownout for 1m every 4m unless told otherwise, and refuses one that never ends', () => {
    expect(localConfig([], {}).demoBrownout).toEqual({ periodMs: 240_000, durationMs: 60_000 });
    expect(localConfig(['--demo-brownout-every', '90s', '--demo-brownout-for', '20s'], {}).demoBrownout).toEqual({ periodMs: 90_000, durationMs: 20_000 });
    expect(() => localConfig(['--demo-brownout-every', '30s', '--demo-brownout-for', '30s'], {})).toThrow('--demo-brownout-for must be at least 1s and shorter than --demo-brownout-every');
    expect(() => localConfig(['--demo-brownout-for', 'soon'], {})).toThrow(/demo-brownout-for/);
  });
});
