// The OpenAPI v2 document in the protobuf kube-apiserver serves at /openapi/v2 (gnostic's
// openapi.v2.Document; field numbers from its OpenAPIv2.proto). Only the parts a Kubernetes
// document uses are encoded: info, paths with get operations, and definitions with their
// schemas and vendor extensions. Values of type Any (default, enum, example, extensions)
// travel as YAML text, which JSON is.

type Json = Record<string, unknown>;

class Message {
  readonly #parts: Buffer[] = [];

  static varint(n: number | bigint): Buffer {
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    return Buffer.from(out);
  }

  #tag(field: number, wire: number): void {
    this.#parts.push(Message.varint((field << 3) | wire));
  }

  bytes(field: number, payload: Buffer): this {
    this.#tag(field, 2);
    this.#parts.push(Message.varint(payload.length), payload);
    return this;
  }

  string(field: number, value: unknown): this {
    if (typeof value === 'string' && value !== '') this.bytes(field, Buffer.from(value, 'utf8'));
    return this;
  }

  message(field: number, value: Message | undefined): this {
    if (value) this.bytes(field, value.encode());
    return this;
  }

  bool(field: number, value: unknown): this {
    if (value === true) {
      this.#tag(field, 0);
      this.#parts.push(Message.varint(1));
    }
    return this;
  }

  int64(field: number, value: unknown): this {
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      this.#tag(field, 0);
      this.#parts.push(Message.varint(value));
    }
    return this;
  }

  double(field: number, value: unknown): this {
    if (typeof value === 'number' && Number.isFinite(value)) {
      this.#tag(field, 1);
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value);
      this.#parts.push(b);
    }
    return this;
  }

  encode(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** openapi.v2.Any { yaml = 2 } */
function any(value: unknown): Message {
  return new Message().string(2, JSON.stringify(value));
}

/** repeated NamedAny (name = 1, value = 2) for every x- key of `o`. */
function vendorExtensions(m: Message, field: number, o: Json): void {
  for (const [k, v] of Object.entries(o)) if (k.startsWith('x-')) m.message(field, new Message().string(1, k).message(2, any(v)));
}

function schema(s: Json): Message {
  const m = new Message()
    .string(1, s.$ref)
    .string(2, s.format)
    .string(3, s.title)
    .string(4, s.description);
  if (s.default !== undefined) m.message(5, any(s.default));
  m.double(6, s.multipleOf).double(7, s.maximum).bool(8, s.exclusiveMaximum).double(9, s.minimum).bool(10, s.exclusiveMinimum);
  m.int64(11, s.maxLength).int64(12, s.minLength).string(13, s.pattern).int64(14, s.maxItems).int64(15, s.minItems).bool(16, s.uniqueItems);
  m.int64(17, s.maxProperties).int64(18, s.minProperties);
  for (const r of Array.isArray(s.required) ? s.required : []) m.string(19, r);
  for (const e of Array.isArray(s.enum) ? s.enum : []) m.message(20, any(e));
  if (typeof s.additionalProperties === 'boolean') m.message(21, new Message().bool(2, s.additionalProperties));
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') m.message(21, new Message().message(1, schema(s.additionalProperties as Json)));
  if (typeof s.type === 'string') m.message(22, new Message().string(1, s.type));
  if (s.items && typeof s.items === 'object') {
    const items = new Message();
    for (const i of Array.isArray(s.items) ? s.items : [s.items]) items.message(1, schema(i as Json));
    m.message(23, items);
  }
  for (const a of Array.isArray(s.allOf) ? s.allOf : []) m.message(24, schema(a as Json));
  if (s.properties && typeof s.properties === 'object') {
    const props = new Message();
    for (const [name, p] of Object.entries(s.properties as Json)) props.message(1, new Message().string(1, name).message(2, schema(p as Json)));
    m.message(25, props);
  }
  if (s.example !== undefined) m.message(30, any(s.example));
  vendorExtensions(m, 31, s);
  return m;
}

function operation(op: Json): Message {
  const m = new Message().string(3, op.description).string(5, op.operationId);
  const responses = new Message();
  for (const [code, r] of Object.entries((op.responses ?? {}) as Json)) {
    const res = r as Json;
    const response = new Message().string(1, res.description);
    if (res.schema) response.message(2, new Message().message(1, schema(res.schema as Json)));
    responses.message(1, new Message().string(1, code).message(2, new Message().message(1, response)));
  }
  m.message(9, responses);
  vendorExtensions(m, 13, op);
  return m;
}

/** Encodes a Swagger 2.0 document (as openapi.ts builds it) as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2(doc: { swagger: string; info: { title: string; version: string }; paths: Json; definitions: Json }): Buffer {
  const paths = new Message();
  for (const [path, item] of Object.entries(doc.paths)) {
    const get = (item as Json).get as Json | undefined;
    paths.message(2, new Message().string(1, path).message(2, new Message().message(2, get ? operation(get) : undefined)));
  }
  const definitions = new Message();
  for (const [name, s] of Object.entries(doc.definitions)) definitions.message(1, new Message().string(1, name).message(2, schema(s as Json)));
  return new Message()
    .string(1, doc.swagger)
    .message(2, new Message().string(1, doc.info.title).string(2, doc.info.version))
    .message(8, paths)
    .message(9, definitions)
    .encode();
}
