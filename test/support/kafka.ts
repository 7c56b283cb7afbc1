// Real Kafka protocol for tests and benchmarks, from librdkafka's mock cluster (Debian's kcat
// and librdkafka-dev; no JVM broker can be installed here).
//
// startKcatCluster(): `kcat -b localhost:1 -X test.mock.num.brokers=N -d mock -C -t keepalive`
//   keeps a mock cluster alive and prints `bootstrap.servers=...` on stderr (its debug log
//   goes on; it is drained so kcat never blocks on a full pipe).
// startMockCluster(): test/support/kafka-mock/mock-cluster.c, compiled with gcc on first use
//   (cached by source hash), drives the mock API from line commands, so a test can take a
//   broker down and up, inject request errors, create topics with N partitions, move leaders.
//
// What the mock does (librdkafka 2.0): produce (not kafkajs's idempotent producer: its
// InitProducerId goes to a controller the mock does not report), fetch, consumer groups with
// commits; topics are auto-created with 4 partitions. Each partition keeps only its newest
// ~5 MB (older message sets are trimmed), a fetch returns one message set per partition, the
// first join of a group waits 3 s (group.initial.rebalance.delay.ms) and a later one up to the
// session timeout - 1 s, ListOffsets by timestamp answers "no offset", and CreateTopics is
// not supported. Each process is its own cluster: killing it loses the data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const HARNESS_SOURCE = join(here, 'kafka-mock', 'mock-cluster.c');
const MOCK_HEADER = '/usr/include/librdkafka/rdkafka_mock.h';
const PROVISION = "run 'bash test/support/provision.sh' (as root) to install it";

function requireTool(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.error) throw new Error(`Kafka tests need ${what} (${command}: ${result.error.message}); ${PROVISION}`);
}

/** Ready-made cluster handle shared by both kinds of mock. */
export interface KafkaCluster {
  /** "host:port,host:port,..." */
  readonly bootstrap: string;
  readonly brokers: string[];
  stop(): Promise<void>;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess, graceMs = 2_000): Promise<void> {
  const exited = waitForExit(child);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first capture of `pattern` in the stream, or rejects on exit/timeout. */
function readUntil(child: ChildProcess, stream: NodeJS.ReadableStream, pattern: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; output: ${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: string) => {
      seen = (seen + chunk).slice(-20_000);
      const match = pattern.exec(seen);
      if (match) finish(undefined, match[1]);
    };
    const onExit = (code: number | null) => finish(new Error(`${what}: process exited (${code}) first; output: ${seen.slice(-2000)}`));
    function finish(error?: Error, value?: string) {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** A mock cluster kept alive by kcat (no fault injection). */
export async function startKcatCluster(brokerCount = 3): Promise<KafkaCluster> {
  requireTool('kcat', ['-V'], "Debian's kcat");
  const child = spawn('kcat', ['-b', 'localhost:1', '-X', `test.mock.num.brokers=${brokerCount}`, '-d', 'mock', '-C', '-t', 'keepalive'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8');
  const bootstrap = await readUntil(child, child.stderr!, /bootstrap\.servers=(\S+)/, 'kcat mock cluster bootstrap.servers').catch(async (e: unknown) => {
    await terminate(child);
    throw e;
  });
  // The debug log goes on for every request: keep reading it so kcat never blocks.
  child.stderr!.resume();
  return { bootstrap, brokers: bootstrap.split(','), stop: () => terminate(child) };
}

/** Compiles the C harness once per source version into a shared cache dir; returns the binary. */
export function mockClusterBinary(): string {
  requireTool('gcc', ['--version'], 'gcc');
  if (!existsSync(MOCK_HEADER)) throw new Error(`Kafka tests need librdkafka-dev (${MOCK_HEADER} is missing); ${PROVISION}`);
  const source = readFileSync(HARNESS_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'meshpilot-kafka-mock', hash);
  const binary = join(dir, 'mock-cluster');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Compile to a private name and rename: parallel test workers may race here.
  const partial = `${binary}.${process.pid}`;
  const result = spawnSync('gcc', ['-O2', '-Wall', '-o', partial, HARNESS_SOURCE, '-lrdkafka'], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`compiling ${HARNESS_SOURCE} failed (is librdkafka-dev installed? ${PROVISION}):\n${result.stderr}`);
  }
  renameSync(partial, binary);
  return binary;
}

/** A mock cluster driven through librdkafka's mock API (test/support/kafka-mock/mock-cluster.c). */
export class MockCluster implements KafkaCluster {
  readonly bootstrap: string;
  readonly brokers: string[];
  readonly #child: ChildProcess;
  #replies: string[] = [];
  #waiters: ((line: string) => void)[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: ChildProcess, bootstrap: string) {
    this.#child = child;
    this.bootstrap = bootstrap;
    this.brokers = bootstrap.split(',');
    let partial = '';
    child.stdout!.on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        const waiter = this.#waiters.shift();
        if (waiter) waiter(line);
        else this.#replies.push(line);
      }
    });
  }

  static async start(brokerCount = 3): Promise<MockCluster> {
    const binary = mockClusterBinary();
    const child = spawn(binary, [String(brokerCount)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8').resume();
    const bootstrap = await readUntil(child, child.stdout!, /bootstrap\.servers=(\S+)\n/, 'mock-cluster bootstrap.servers').catch(async (e: unknown) => {
      await terminate(child);
      throw e;
    });
    return new MockCluster(child, bootstrap);
  }

  /** Sends one command line; resolves on "ok", rejects with the harness's error. */
  command(line: string): Promise<void> {
    const run = async () => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) throw new Error(`mock-cluster has exited; cannot run "${line}"`);
      const reply = new Promise<string>((resolve) => {
        const queued = this.#replies.shift();
        if (queued !== undefined) resolve(queued);
        else this.#waiters.push(resolve);
      });
      this.#child.stdin!.write(`${line}\n`);
      const answer = await reply;
      if (answer !== 'ok') throw new Error(`mock-cluster "${line}": ${answer}`);
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Disconnects broker `id` (1..N, or -1 for all) and refuses new connections; leadership does not move. */
  down(id: number): Promise<void> {
    return this.command(`down ${id}`);
  }

  up(id: number): Promise<void> {
    return this.command(`up ${id}`);
  }

  /** The next `count` requests of `apiKey` fail with Kafka error code `error`. */
  errors(apiKey: number, count: number, error: number): Promise<void> {
    return this.command(`errors ${apiKey} ${count} ${error}`);
  }

  topic(name: string, partitions: number, replicationFactor?: number): Promise<void> {
    return this.command(`topic ${name} ${partitions}${replicationFactor === undefined ? '' : ` ${replicationFactor}`}`);
  }

  leader(topic: string, partition: number, brokerId: number): Promise<void> {
    return this.command(`leader ${topic} ${partition} ${brokerId}`);
  }

  coordinator(type: 'group' | 'transaction', key: string, brokerId: number): Promise<void> {
    return this.command(`coordinator ${type} ${key} ${brokerId}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.stdin!.end('quit\n');
    const exited = waitForExit(this.#child);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Produces the lines of `file` (one message each) to `topic` with kcat -P: librdkafka
 * batches far faster than kafkajs. The sticky partitioner is turned off so messages spread
 * evenly (the mock keeps only ~5 MB per partition).
 */
export function kcatProduce(bootstrap: string, topic: string, file: string, config: Record<string, string> = {}): void {
  requireTool('kcat', ['-V'], "Debian's kcat");
  const args = ['-b', bootstrap, '-P', '-t', topic, '-X', 'sticky.partitioning.linger.ms=0'];
  for (const [key, value] of Object.entries(config)) args.push('-X', `${key}=${value}`);
  args.push('-l', file);
  const result = spawnSync('kcat', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kcat -P to ${topic} failed (${result.status}): ${result.stderr}`);
}
