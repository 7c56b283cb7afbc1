#!/usr/bin/env node
// The `meshpilot` command: parses the command word, prints help, and hands the parsed
// configuration to the composition root (main.ts). Exit codes: 0 done, 1 failed, 2 bad usage.
import { ConfigError, MeshpilotError } from './base/errors.ts';

const FLAG_HELP_OPERATOR = `
  --kubeconfig PATH        kubeconfig to use (default: $KUBECONFIG, then in-cluster)
  --namespace NS           watch only this namespace (default: all namespaces)
  --metrics-addr ADDR      serve Prometheus metrics on ADDR (default :8080)
  --health-addr ADDR       serve /healthz and /readyz on ADDR (default :8081)
  --leader-elect BOOL      elect a leader through a Lease before reconciling (default true)
  --lease-name NAME        name of the Lease (default meshpilot-operator)
  --lease-namespace NS     namespace of the Lease (default $POD_NAMESPACE, then default)
  --lease-duration DUR     how long a lease is valid without renewal (default 15s)
  --renew-deadline DUR     how long the leader keeps retrying to renew (default 10s)
  --retry-period DUR       how often candidates retry and the leader renews (default 2s)
  --identity ID            this replica's identity in the Lease (default: $POD_NAME + random)
  --workers N              concurrent reconciles per controller (default 4)
  --log-level LEVEL        trace|debug|info|warn|error|silent (default info)
  --log-format FORMAT      json, text, or auto: text when stdout is a terminal (default auto)
  --xds-addr ADDR          serve xDS (Envoy v3 ADS, gRPC) on ADDR (default :18000)
  --envoy-listener-port N  port of the HTTP listener given to Envoy proxies (default 10000)
  --prometheus-url URL     Prometheus for routes that name no telemetry source (default: none)
  --prometheus-timeout DUR timeout of one Prometheus query (default 5s)
  --kafka-brokers LIST     brokers (host:port,...) for telemetry topics and the decision log
  --kafka-client-id ID     Kafka client id (default meshpilot)
  --kafka-group-id ID      consumer group of the telemetry consumer (default meshpilot-telemetry)
  --kafka-max-message-bytes N  larger telemetry messages are dead-lettered (default 65536)
  --decision-log-topic T   topic every decision is produced to; empty disables (default meshpilot.decisions)
  --telemetry-window DUR   sliding window for rates and latency quantiles (default 60s)
  --telemetry-max-clock-skew DUR  how far in the future a timestamp may be (default 30s)
  --scrape-timeout DUR     timeout of one direct /metrics scrape (default 5s)
  --models-dir DIR         where spec.policy.modelRef names models (default: the models/ folder)
Every flag can also be set as MESHPILOT_<FLAG> (e.g. MESHPILOT_LOG_LEVEL=debug).`;

const HELP = {
  main: `meshpilot — steers service-mesh traffic with a learned policy

Usage: meshpilot <command> [flags]

Commands:
  start          run against the current cluster, or, with no kubeconfig, start 'local'
  run            run the operator against a cluster (kubeconfig or in-cluster)
  local          run an embedded local control plane, the operator and the example routes
  control-plane  run only the embedded local control plane (a Kubernetes-compatible API server)
  validate       check manifest files against the CRD schemas, offline
  xds            inspect the xDS server of a running operator (nodes, config dump)
  train          train a policy with PPO on the simulator's scenarios (writes a model directory)
  evaluate       run a model and the baseline heuristics on the simulator's scenarios
  promote        gate a new model on the decision log and, if it passes, install it atomically
  scenarios      generate random meshes (scenario files) for training and held-out evaluation
  version        print the version

Run 'meshpilot <command> --help' for the flags of a command.`,
  start: `Usage: meshpilot start [flags]

Runs 'meshpilot run' when a kubeconfig is available ($KUBECONFIG, ~/.kube/config, or
in-cluster), otherwise 'meshpilot local'. This is what 'npm start' runs.
Flags: those of 'run', or of 'local' when no cluster is found.`,
  run: `Usage: meshpilot run [flags]

Runs the operator against a Kubernetes cluster: watches AdaptiveRoute and ContactPlan
objects, reconciles them and reports status, conditions and events.

Flags:${FLAG_HELP_OPERATOR}`,
  local: `Usage: meshpilot local [flags]

Starts an embedded, Kubernetes-API-compatible control plane that keeps its state in
--state-dir, registers the CRDs from crds/, applies the examples from deploy/examples/ on
first start, and runs the operator against it. Prints the kubeconfig path for kubectl.

Flags:
  --state-dir DIR          where the control plane keeps its objects (default .state/local)
  --api-port PORT          port of the embedded API server (default: a free port)
  --salvage-state          start even though the state log is damaged: keep every record
                           whose checksum is valid, copy the original aside, report the loss
  --examples BOOL          apply deploy/examples/ on first start (default true)
  --demo BOOL              run the demo mesh: gRPC backends in 3 regions on loopback, a
                           proxyless client sending load through the xDS server, and the
                           route default/demo steering it, read by direct scrape (default true)
  --demo-brownout-every D  how often one demo region browns out; the first comes 30s after
                           the start (default 4m)
  --demo-brownout-for D    how long each brownout lasts (default 1m)${FLAG_HELP_OPERATOR}`,
  'control-plane': `Usage: meshpilot control-plane [flags]

Runs only the embedded control plane, for running the operator (or kubectl) against it
separately. Prints one JSON line {"url":…,"kubeconfig":…} on stdout when it is ready.

Flags:
  --state-dir DIR          where objects are kept (default .state/local)
  --api-port PORT          port to listen on (default: a free port)
  --salvage-state          start even though the state log is damaged (see 'meshpilot local --help')
  --log-level LEVEL        (default info)`,
  validate: `Usage: meshpilot validate -f FILE|DIR [-f ...]

Checks AdaptiveRoute and ContactPlan manifests against the CRD schemas in crds/ (the same
checks the API server makes, CEL rules included) and prints every problem with its field
path. Documents of other kinds are skipped. Exit code 1 when anything is invalid.`,
  xds: `Usage: meshpilot xds nodes [--admin-addr ADDR]
       meshpilot xds dump --node ID [--admin-addr ADDR]

Asks a running operator's admin endpoint (its --metrics-addr; default 127.0.0.1:8080) which
xDS nodes are connected ('nodes'), or what one node currently holds and its ACK/NACK state
per resource type, like Envoy's config_dump ('dump'). Prints JSON.`,
  train: `Usage: meshpilot train --scenarios DIR --out DIR [--seed N] [--iterations N] [--workers N]
                       [--log FILE] [--resume DIR] [--checkpoints DIR] [hyper-parameters]

Trains the policy with PPO on a mixture of the scenario files (training/scenarios), rollouts in
worker threads, and writes a model directory (model.json, weights, meshpilot-model.json with the
command that reproduces it). Progress on stderr, one JSON line per iteration with --log, the
summary as the last JSON line on stdout. See training/ppo/README.md for every flag.`,
  evaluate: `Usage: meshpilot evaluate [--model DIR] [--scenarios DIR] [--seeds N] [--json] [--out DIR]

Runs the model (when given) and every baseline heuristic (static, istio, linkerd) on each
scenario of the mesh simulator with several seeds, and reports SLO-violation seconds, p99
latency, error rate, cross-region cost and weight churn per policy and scenario. With --out,
writes evaluate.json and one SVG plot per scenario. The last line on stdout is the JSON result.

With --decision-log FILE --routes FILE --model DIR it instead estimates, off policy, how the
model would have done on the decisions the operator logged (IPS, self-normalised IPS and
doubly robust, with bootstrap intervals), and gates it: exit 0 when its doubly robust lower
bound beats the logged policy by --min-improvement, 3 when it does not.
  --model DIR       a model directory (model.json, weights, meshpilot-model.json)
  --scenarios DIR   scenario files (default: training/scenarios)
  --seeds N         seeds per scenario and policy (default 5)
  --json            print only the JSON result on stdout
  --out DIR         also write evaluate.json and the plots there`,
  promote: `Usage: meshpilot promote --candidate DIR --name NAME --decision-log FILE --routes FILE
                         [--models-dir DIR] [--min-improvement X] [--confidence C] [--max-weight W]
                         [--seed N] [--force] [--keep N]
       meshpilot promote --name NAME --recover [--models-dir DIR]

Replaces the model routes reference as NAME with the candidate, if it passes the gate. Loads and
checks the candidate, then runs the off-policy gate of 'evaluate --decision-log' on it (its
doubly robust lower bound must beat the logged policy by --min-improvement, on enough effective
samples) and prints its {"ope":…} verdict. Only when it passes (or with --force, which says so
loudly) is it installed: copied to DIR/.versions/NAME/<version>/, and DIR/NAME becomes a link to
it, swapped in one rename, so a running operator loads the old model or the new one, never a mix.
Older versions are kept (--keep N, default 3). The last stdout line is
{"promote":{"name":…,"from":…,"to":…,"accepted":…,"installed":…}}. An interrupted promotion
is finished by the next promote or by --recover. Exit code 0 installed, 3 rejected (nothing
changed), 2 bad input, 1 other errors. See models/README.md.
  --candidate DIR        the model directory to install (as meshpilot train writes it)
  --name NAME            the model name routes reference (spec.policy.modelRef.name)
  --models-dir DIR       the operator's --models-dir (default: the models/ folder)
  --decision-log FILE    JSONL of meshpilot.decision/v1 and meshpilot.decision-outcome/v1 records
  --routes FILE          the AdaptiveRoute manifests the decisions were made for
  --min-improvement X    reward per decision the candidate must gain (default 0)
  --confidence C         one-sided level of the gate's lower bound (default 0.95)
  --max-weight W         clip importance weights at W (default: no clipping)
  --seed N               bootstrap seed (default 1)
  --force                install even when the gate rejects the candidate
  --keep N               versions of NAME to keep, the new and the replaced one always (default 3)
  --recover              only finish or clean up an interrupted promotion`,
  scenarios: `Usage: meshpilot scenarios generate --seed N --count K --out DIR

Writes K scenario files of random, realistic meshes: 2 to 8 regions placed on a map (round
trips from the geography), capacities, costs, objectives from tight to loose, demand with or
without a daily shape, telemetry with or without health checks, and either a calm period
(about 30%) or one to three incidents from the simulator's event library at random times.
The same seed always gives the same files, and scenario i of a seed does not depend on K, so
a held-out set is a seed never used for training. Run them with
'meshpilot evaluate --scenarios DIR'.
  --seed N     0 to 2^31-1
  --count K    1 to 10000
  --out DIR    created if missing; must hold no scenario of that seed yet`,
  version: `Usage: meshpilot version`,
} as const;

type Command = keyof typeof HELP;

function isCommand(word: string): word is Command {
  return Object.hasOwn(HELP, word) && word !== 'main';
}

async function main(argv: string[]): Promise<number> {
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    console.log(HELP.main);
    return word === undefined ? 2 : 0;
  }
  if (!isCommand(word)) {
    console.error(`meshpilot: unknown command "${word}"\n\n${HELP.main}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[word]);
    return 0;
  }
  const entry = await import('./main.ts');
  try {
    switch (word) {
      case 'version':
        console.log(entry.version());
        return 0;
      case 'run':
        return await entry.runOperatorCommand(rest);
      case 'local':
        return await entry.runLocalCommand(rest);
      case 'start':
        return await entry.runStartCommand(rest);
      case 'control-plane':
        return await entry.runControlPlaneCommand(rest);
      case 'validate':
        return entry.runValidateCommand(rest);
      case 'xds':
        return await entry.runXdsCommand(rest);
      case 'train':
        return await (await import('../training/ppo/train-main.ts')).runTrain(rest);
      case 'evaluate':
        // With a decision log: off-policy evaluation of the model against what was logged.
        if (rest.includes('--decision-log')) return await (await import('../training/evaluate/ope-main.ts')).runOpe(rest);
        return await (await import('../training/evaluate/main.ts')).runEvaluate(rest);
      case 'promote':
        return await (await import('../training/promote/promote-main.ts')).runPromote(rest);
      case 'scenarios':
        if (rest[0] !== 'generate') throw new ConfigError(`scenarios: expected "generate", got ${rest[0] === undefined ? 'nothing' : `"${rest[0]}"`}`);
        return await (await import('../training/generate/generate-main.ts')).runGenerate(rest.slice(1));
      default:
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`meshpilot ${word}: ${e.message}\nRun 'meshpilot ${word} --help' for usage.`);
      return 2;
    }
    const { stackTracesWanted } = await import('./process/config.ts');
    console.error(`meshpilot ${word}: ${fatalMessage(e, stackTracesWanted(rest, process.env))}`);
    return 1;
  }
}

/**
 * A fatal error in words: meshpilot's own errors already say what to change; anything else
 * is a bug, whose stack is one flag away.
 */
function fatalMessage(e: unknown, withStack: boolean): string {
  if (!(e instanceof Error)) return String(e);
  if (withStack) return e.stack ?? e.message;
  if (e instanceof MeshpilotError) return e.message;
  return `${e.message} (an unexpected ${e.name}; --log-level debug prints its stack trace)`;
}

const code = await main(process.argv.slice(2));
// Long-running commands resolve only once they have shut down, so nothing is left to finish:
// a failure exits at once, rather than waiting on a timer or socket that outlived it.
if (code !== 0) process.exit(code);
process.exitCode = code;
