// The few DER (X.690) pieces meshpilot writes and reads itself: Node can parse certificates
// but not issue them, and it says which key-exchange group a server-side TLS session used
// only inside the session's own DER encoding.
import { isIP } from 'node:net';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export const seq = (...c: Buffer[]) => tlv(0x30, ...c);

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * A DER INTEGER of the unsigned big-endian `bytes`: minimal, so leading zero bytes go (DER
 * refuses them: OpenSSL reads a serial that starts 00 0x.. as "illegal padding", which one
 * random 16-byte serial in 512 did), and a zero byte is added when the high bit is set.
 */
export function positiveInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

export function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff]));
}


/** One DER element: its tag, and where its content lies in the buffer. */
export interface DerElement {
  tag: number;
  /** Where the element (its tag) begins. */
  at: number;
  /** Where its content begins and ends. */
  start: number;
  end: number;
}

/** The elements directly inside `buf[start, end)`; undefined when they do not parse. */
export function derChildren(buf: Uint8Array, start = 0, end = buf.length): DerElement[] | undefined {
  const out: DerElement[] = [];
  let at = start;
  while (at < end) {
    const tag = buf[at]!;
    let len = buf[at + 1];
    if (len === undefined) return undefined;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > end) return undefined;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
      head += n;
    }
    if (at + head + len > end) return undefined;
    out.push({ tag, at, start: at + head, end: at + head + len });
    at += head + len;
  }
  return out;
}

/** The unsigned value of a DER INTEGER element (up to 48 bits). */
export function derUnsigned(buf: Uint8Array, e: DerElement): number {
  let v = 0;
  for (let i = e.start; i < e.end; i++) v = v * 256 + buf[i]!;
  return v;
}
