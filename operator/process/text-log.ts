// Log lines for a person at a terminal: pino writes its JSON lines here, and each comes out
// as `10:42:07 INFO  control plane ready url=https://127.0.0.1:36069 kubeconfig=…`. Machines
// (a pod's log collector, a pipe) keep getting JSON: `--log-format` chooses, and `auto`
// picks text only when stdout is a terminal.
import { Writable } from 'node:stream';

/** Fields every line carries that a person does not need to read. */
const HIDDEN = new Set(['level', 'time', 'msg', 'name', 'version', 'pid', 'hostname']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v instanceof Object && 'message' in v && 'stack' in v) return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** One JSON log line in words; a line that is not JSON passes through unchanged. */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = String(record.level ?? '').toUpperCase().padEnd(5);
  const err = record.err as { message?: unknown } | undefined;
  const fields = Object.entries(record)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => (k === 'err' && err ? `error=${value(err.message)}` : `${k}=${value(v)}`));
  return [time, level, String(record.msg ?? ''), ...fields].filter(Boolean).join(' ');
}

/** A stream that writes each JSON line it receives to `out` as text. */
export function textLogStream(out: NodeJS.WritableStream = process.stdout): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        out.write(`${textLine(pending.slice(0, nl))}\n`);
        pending = pending.slice(nl + 1);
      }
      done();
    },
  });
}
