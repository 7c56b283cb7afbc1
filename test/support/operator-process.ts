// Runs `meshpilot run` as a real child process against a test cluster, so that end-to-end
// tests can SIGKILL it at any point, run several replicas, and read its metrics endpoint.
import { JsonLinesChild, nodeBinary } from './child.ts';
import { CLI } from './cluster.ts';

export interface OperatorOptions {
  kubeconfigPath: string;
  namespace: string;
  identity: string;
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
  extraArgs?: string[];
  logLevel?: string;
}

export class OperatorProcess {
  readonly child: JsonLinesChild;
  readonly identity: string;

  private constructor(child: JsonLinesChild, identity: string) {
    this.child = child;
    this.identity = identity;
  }

  static start(o: OperatorOptions): OperatorProcess {
    const args = [
      CLI, 'run',
      '--kubeconfig', o.kubeconfigPath,
      '--namespace', o.namespace,
      '--lease-namespace', o.namespace,
      '--identity', o.identity,
      '--metrics-addr', '127.0.0.1:0',
      '--health-addr', '127.0.0.1:0',
      // The tests' clients are grpc-js-xds, which cannot speak TLS to a control plane.
      '--xds-addr', 'none',
      '--xds-plaintext-addr', '127.0.0.1:0',
      '--lease-duration', o.leaseDuration ?? '15s',
      '--renew-deadline', o.renewDeadline ?? '10s',
      '--retry-period', o.retryPeriod ?? '2s',
      '--log-level', o.logLevel ?? 'info',
      ...(o.extraArgs ?? []),
    ];
    return new OperatorProcess(new JsonLinesChild(nodeBinary, args), o.identity);
  }

  /** Ports the process bound, from its "serving endpoints" log line. */
  async endpoints(): Promise<{ metricsPort: number; healthPort: number; xdsPlaintextPort: number }> {
    const line = await this.child.waitForLine((l) => l.msg === 'serving endpoints', 30_000, 'serving endpoints');
    return { metricsPort: line.metricsPort as number, healthPort: line.healthPort as number, xdsPlaintextPort: line.xdsPlaintextPort as number };
  }

  /** One sample value from /metrics (the sum over series matching every given label). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const { metricsPort } = await this.endpoints();
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m || m[1] !== name) continue;
      const labelText = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL') {
    return this.child.stop(signal);
  }
}
