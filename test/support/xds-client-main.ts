// The child process behind XdsClientProcess (xds-client.ts): one real @grpc/grpc-js-xds
// channel to `xds:///<host>` (bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG, set by the parent),
// driven by JSON commands on stdin and answering with JSON lines on stdout. It sends echo
// RPCs in bursts or as a steady load and counts every outcome: successes by the region and
// backend that answered, failures by status code. It exits when stdin closes, so it never
// outlives the test that started it.
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { loadEcho, type EchoReply } from './grpc-echo.ts';
import { emptyCounts, type CallCounts, type ClientCommand } from './xds-client-protocol.ts';

const target = process.argv[2];
if (!target) throw new Error('usage: xds-client-main.ts xds:///host');

grpcXds.register();
const echo = loadEcho();
const client = new echo.client(target, grpc.credentials.createInsecure());

function send(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const MAX_ERRORS = 20;

function call(counts: CallCounts, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    client.Echo({ message: 'ping' }, { deadline: Date.now() + deadlineMs }, (error: grpc.ServiceError | null, reply?: EchoReply) => {
      if (error || !reply) {
        counts.failed += 1;
        const code = error ? (grpc.status[error.code] ?? String(error.code)) : 'NO_REPLY';
        counts.failuresByCode[code] = (counts.failuresByCode[code] ?? 0) + 1;
        if (counts.errors.length < MAX_ERRORS) counts.errors.push(`${code}: ${error?.details ?? ''}`);
      } else {
        counts.ok += 1;
        counts.byRegion[reply.region] = (counts.byRegion[reply.region] ?? 0) + 1;
        counts.byBackend[reply.backend] = (counts.byBackend[reply.backend] ?? 0) + 1;
      }
      resolve();
    });
  });
}

async function burst(n: number, concurrency: number, deadlineMs: number): Promise<CallCounts> {
  const counts = emptyCounts();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      await call(counts, deadlineMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  return counts;
}

/** The steady load: `concurrency` loops, each sending one RPC after the other. */
let load: { counts: CallCounts; running: boolean; done: Promise<void[]> } | undefined;

function startLoad(concurrency: number, pauseMs: number, deadlineMs: number): void {
  const state = { counts: emptyCounts(), running: true, done: Promise.resolve([] as void[]) };
  const worker = async (): Promise<void> => {
    while (state.running) {
      await call(state.counts, deadlineMs);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  state.done = Promise.all(Array.from({ length: concurrency }, worker));
  load = state;
}

async function handle(command: ClientCommand): Promise<void> {
  switch (command.op) {
    case 'burst':
      send({ id: command.id, counts: await burst(command.n, command.concurrency, command.deadlineMs) });
      return;
    case 'load':
      if (load?.running) throw new Error('load already running');
      startLoad(command.concurrency, command.pauseMs, command.deadlineMs);
      send({ id: command.id });
      return;
    case 'snapshot':
      send({ id: command.id, counts: structuredClone(load?.counts ?? emptyCounts()) });
      return;
    case 'stopLoad': {
      const state = load;
      if (state) {
        state.running = false;
        await state.done;
      }
      load = undefined;
      send({ id: command.id, counts: state?.counts ?? emptyCounts() });
      return;
    }
  }
}

const input = createInterface({ input: process.stdin });
input.on('line', (text) => {
  let command: ClientCommand;
  try {
    command = JSON.parse(text) as ClientCommand;
  } catch {
    send({ error: `not JSON: ${text}` });
    return;
  }
  handle(command).catch((e: unknown) => send({ id: command.id, error: e instanceof Error ? e.message : String(e) }));
});
input.on('close', () => {
  if (load) load.running = false;
  client.close();
  process.exit(0);
});

send({ ready: true, pid: process.pid });
