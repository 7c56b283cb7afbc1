// A rollout worker thread: holds its own environment instances and the latest actor copy,
// and runs the episodes it is sent, one at a time, in the order they arrive.
import { parentPort } from 'node:worker_threads';
import type { ActorSnapshot } from './episode.ts';
import { runEpisode, trajectoryBuffers } from './episode.ts';
import { loadEnvVariants, type EnvVariant } from './env-source.ts';
import type { FromWorker, ToWorker } from './rollout-messages.ts';
import { ERROR_CODES, MeshpilotError } from '../../operator/base/errors.ts';

const port = parentPort;
if (!port) throw new MeshpilotError(ERROR_CODES.INTERNAL, 'rollout-worker.ts runs only as a worker thread');

let variants: EnvVariant[] = [];
let actor: ActorSnapshot | null = null;
// Messages are handled strictly in order, even though init is asynchronous.
let queue: Promise<void> = Promise.resolve();

const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

function handle(m: ToWorker): Promise<void> | void {
  switch (m.type) {
    case 'init':
      return loadEnvVariants(m.source).then(
        (v) => {
          variants = v;
          send({ type: 'ready', variants: v.map((x) => x.name) });
        },
        (e: unknown) => send({ type: 'error', message: describe(e), taskIndex: null }),
      );
    case 'actor':
      actor = m.actor;
      return;
    case 'run': {
      const variant = variants[m.task.variant];
      try {
        if (!variant) throw new MeshpilotError(ERROR_CODES.INTERNAL, `no environment variant ${m.task.variant}`);
        if (!actor) throw new MeshpilotError(ERROR_CODES.INTERNAL, 'no actor weights before the first episode');
        const trajectory = runEpisode(variant.env, actor, m.task);
        send({ type: 'trajectory', trajectory }, trajectoryBuffers(trajectory));
      } catch (e) {
        const where = variant ? `${variant.name}, seed ${m.task.envSeed}` : `variant ${m.task.variant}`;
        send({ type: 'error', message: `episode ${m.task.index} (${where}): ${describe(e)}`, taskIndex: m.task.index });
      }
      return;
    }
  }
}

port.on('message', (m: ToWorker) => {
  queue = queue.then(() => handle(m));
});
