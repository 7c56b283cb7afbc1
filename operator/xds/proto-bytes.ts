// Hand-assembled protobuf wire bytes, for the few messages that are built by splicing bytes
// already encoded (a response around cached resources, an `Any` around a message, a route
// table around cached virtual hosts) instead of encoding them again.

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2): tag, length, bytes. */
export function lengthDelimited(fieldNumber: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(fieldNumber << 3) | 2, ...varint(bytes.length)]), bytes]);
}

/** A string field. */
export function stringField(fieldNumber: number, value: string): Buffer {
  return lengthDelimited(fieldNumber, Buffer.from(value, 'utf8'));
}

/** `google.protobuf.Any { type_url = 1; value = 2 }` around an encoded message. */
export function encodeAny(typeUrl: string, body: Uint8Array): Buffer {
  return Buffer.concat([stringField(1, typeUrl), lengthDelimited(2, body)]);
}
