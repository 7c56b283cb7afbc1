// The TLS metric families, created together: a process that serves a channel in plaintext
// today still declares them, so a dashboard that asks "no classical handshake?" finds the
// series it queries instead of a missing metric.
import type { Registry } from 'prom-client';
import { counter, gauge } from '../base/metrics.ts';

export function tlsMetrics(registry: Registry) {
  return {
    handshakes: counter(registry, {
      name: 'meshpilot_tls_handshakes_total',
      help: 'TLS handshakes a channel served, by negotiated key-exchange group and result (ok, or why it was refused; group "none" for a refused one)',
      labelNames: ['channel', 'group', 'result'],
    }),
    reloads: counter(registry, {
      name: 'meshpilot_tls_credential_reloads_total',
      help: 'Reloads of TLS credentials after their files changed, by channel and result (failed: the last good ones keep serving)',
      labelNames: ['channel', 'result'],
    }),
    expiry: gauge(registry, {
      name: 'meshpilot_tls_certificate_expiry_timestamp_seconds',
      help: 'When the certificate a channel serves expires (Unix seconds)',
      labelNames: ['channel'],
    }),
  };
}
