/**
 * The flatbuffers verifier for Arrow IPC message metadata, as pyarrow runs it
 * before reading a message (`flatbuffers::Verifier` over `Message.fbs` and
 * `Schema.fbs`), plus the enum ranges pyarrow then insists on.
 *
 * apache-arrow JS reads flatbuffers without verifying them: an offset that
 * points outside a table, a string without its terminator, a vtable that
 * claims a field past its table — each reads some other bytes of the message
 * instead, silently (a Float64 column read as Float16, a field name made of
 * metadata bytes). pyarrow refuses those messages ("Invalid flatbuffers
 * message"), so a block both sides read must be refused here too, before
 * apache-arrow decodes anything.
 *
 * The binary format (flatbuffers' "internals" doc): a buffer starts with a
 * uoffset to the root table; a table starts with an soffset back to its
 * vtable; a vtable is [vtable bytes, table bytes, field offsets…] as uint16;
 * strings and vectors start with a uint32 count, strings end with a NUL.
 * Everything is checked for bounds and for alignment to its own size.
 */

/** Field slots (ids) of the tables below, in `.fbs` order. */
const enum Slot { A, B, C, D, E, F, G }

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_TABLES = 1_000_000;

/** Values pyarrow accepts for each enum (format/Schema.fbs, Message.fbs). */
const METADATA_VERSIONS = new Set([3, 4]); // V4, V5
const HEADERS = { Schema: 1, DictionaryBatch: 2, RecordBatch: 3 } as const;

class Verifier {
  readonly #view: DataView;
  #tables = 0;
  constructor(readonly bytes: Uint8Array, readonly fail: (what: string) => never) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #in(pos: number, size: number, what: string): void {
    if (pos < 0 || size < 0 || pos + size > this.bytes.length) this.fail(`${what} at ${pos} (+${size}) lies outside the ${this.bytes.length}-byte metadata`);
  }

  #aligned(pos: number, align: number, what: string): void {
    if (pos % align !== 0) this.fail(`${what} at ${pos} is not aligned to ${align} bytes`);
  }

  u32(pos: number): number {
    return this.#view.getUint32(pos, true);
  }

  /** The table an offset at `pos` points to (uoffset_t, relative to `pos`). */
  offsetTarget(pos: number, what: string): number {
    this.#in(pos, 4, what);
    this.#aligned(pos, 4, what);
    const offset = this.u32(pos);
    // flatbuffers' VerifyOffset: an offset may not point to itself, nor wrap past 2^31.
    if (offset === 0 || offset > 0x7fffffff) this.fail(`${what} at ${pos} has offset ${offset}`);
    const target = pos + offset;
    this.#in(target, 4, what);
    return target;
  }

  table(pos: number, depth: number, what: string): Table {
    if (depth > MAX_DEPTH) this.fail(`${what}: tables nested more than ${MAX_DEPTH} deep`);
    if (++this.#tables > MAX_TABLES) this.fail(`more than ${MAX_TABLES} tables`);
    this.#in(pos, 4, what);
    this.#aligned(pos, 4, what);
    const vtable = pos - this.#view.getInt32(pos, true);
    this.#in(vtable, 4, `${what} vtable`);
    this.#aligned(vtable, 2, `${what} vtable`);
    const vtableSize = this.#view.getUint16(vtable, true);
    const tableSize = this.#view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2) this.fail(`${what} vtable claims ${vtableSize} bytes`);
    this.#in(vtable, vtableSize, `${what} vtable`);
    this.#in(pos, tableSize, what);
    return new Table(this, pos, vtable, vtableSize, tableSize, depth, what);
  }

  string(pos: number, what: string): void {
    this.#in(pos, 4, what);
    this.#aligned(pos, 4, what);
    const length = this.u32(pos);
    this.#in(pos + 4, length + 1, what);
    if (this.bytes[pos + 4 + length] !== 0) this.fail(`${what} at ${pos} is not NUL-terminated`);
    // Flatbuffers strings are UTF-8: apache-arrow would show a damaged field name with U+FFFD
    // (and look columns up by that), Python could not read it at all.
    try {
      utf8.decode(this.bytes.subarray(pos + 4, pos + 4 + length));
    } catch {
      this.fail(`${what} at ${pos} is not valid UTF-8`);
    }
  }

  /**
   * A vector's element count, after checking it fits with `elementSize`-byte
   * elements. Like flatbuffers' VerifyVector, only the length word must be
   * aligned: writers leave an empty struct vector unaligned (pyarrow does).
   */
  vector(pos: number, elementSize: number, what: string): number {
    this.#in(pos, 4, what);
    this.#aligned(pos, 4, what);
    const count = this.u32(pos);
    this.#in(pos + 4, count * elementSize, what);
    return count;
  }

  scalar(pos: number, size: number, what: string): void {
    this.#in(pos, size, what);
    this.#aligned(pos, size, what);
  }

  get view(): DataView {
    return this.#view;
  }
}

class Table {
  constructor(
    readonly v: Verifier,
    readonly pos: number,
    readonly vtable: number,
    readonly vtableSize: number,
    readonly tableSize: number,
    readonly depth: number,
    readonly what: string,
  ) {}

  /** Where field `slot` is, or 0 when absent (its default applies). */
  #field(slot: Slot, size: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableSize) return 0;
    const o = this.v.view.getUint16(this.vtable + entry, true);
    if (o === 0) return 0;
    if (o + size > this.tableSize) this.v.fail(`${this.what}: field ${slot} at +${o} runs past its ${this.tableSize}-byte table`);
    this.v.scalar(this.pos + o, size, `${this.what} field ${slot}`);
    return this.pos + o;
  }

  int(slot: Slot, size: 1 | 2 | 4 | 8, fallback = 0): number {
    const at = this.#field(slot, size);
    if (!at) return fallback;
    const view = this.v.view;
    return size === 1 ? view.getInt8(at) : size === 2 ? view.getInt16(at, true) : size === 4 ? view.getInt32(at, true) : Number(view.getBigInt64(at, true));
  }

  uint8(slot: Slot): number {
    const at = this.#field(slot, 1);
    return at ? this.v.view.getUint8(at) : 0;
  }

  /** The position a reference field points to (a table, string or vector), or 0. */
  #ref(slot: Slot, what: string): number {
    const at = this.#field(slot, 4);
    return at ? this.v.offsetTarget(at, `${this.what}.${what}`) : 0;
  }

  table(slot: Slot, what: string): Table | undefined {
    const at = this.#ref(slot, what);
    return at ? this.v.table(at, this.depth + 1, `${this.what}.${what}`) : undefined;
  }

  string(slot: Slot, what: string): void {
    const at = this.#ref(slot, what);
    if (at) this.v.string(at, `${this.what}.${what}`);
  }

  /** A vector of scalars or structs. */
  vector(slot: Slot, elementSize: number, what: string): number {
    const at = this.#ref(slot, what);
    return at ? this.v.vector(at, elementSize, `${this.what}.${what}`) : 0;
  }

  /** A vector of tables: each element verified by `each`. */
  tables(slot: Slot, what: string, each: (t: Table) => void): void {
    const at = this.#ref(slot, what);
    if (!at) return;
    const count = this.v.vector(at, 4, `${this.what}.${what}`);
    for (let i = 0; i < count; i++) each(this.v.table(this.v.offsetTarget(at + 4 + 4 * i, `${what}[${i}]`), this.depth + 1, `${this.what}.${what}[${i}]`));
  }
}

function oneOf(t: Table, value: number, allowed: readonly number[], what: string): void {
  if (!allowed.includes(value)) t.v.fail(`${t.what}: ${what} ${value} is not one pyarrow accepts (${allowed.join(', ')})`);
}

function keyValues(t: Table, slot: Slot): void {
  t.tables(slot, 'custom_metadata', (kv) => {
    kv.string(Slot.A, 'key');
    kv.string(Slot.B, 'value');
  });
}

/** Int { bitWidth: int; is_signed: bool } */
function intType(t: Table): void {
  oneOf(t, t.int(Slot.A, 4), [8, 16, 32, 64], 'Int bitWidth');
  t.uint8(Slot.B);
}

/** The `Type` union's member tables (Schema.fbs), by type id. */
function typeTable(typeId: number, t: Table): void {
  switch (typeId) {
    case 2: return intType(t);
    case 3: return oneOf(t, t.int(Slot.A, 2), [0, 1, 2], 'FloatingPoint precision');
    case 7:
      t.int(Slot.A, 4);
      t.int(Slot.B, 4);
      return oneOf(t, t.int(Slot.C, 4, 128), [32, 64, 128, 256], 'Decimal bitWidth');
    case 8: return oneOf(t, t.int(Slot.A, 2, 1), [0, 1], 'Date unit');
    case 9:
      oneOf(t, t.int(Slot.A, 2, 1), [0, 1, 2, 3], 'Time unit');
      return oneOf(t, t.int(Slot.B, 4, 32), [32, 64], 'Time bitWidth');
    case 10:
      oneOf(t, t.int(Slot.A, 2), [0, 1, 2, 3], 'Timestamp unit');
      return t.string(Slot.B, 'timezone');
    case 11: return oneOf(t, t.int(Slot.A, 2), [0, 1, 2], 'Interval unit');
    case 14:
      oneOf(t, t.int(Slot.A, 2), [0, 1], 'Union mode');
      t.vector(Slot.B, 4, 'typeIds');
      return;
    case 15: t.int(Slot.A, 4); return;
    case 16: t.int(Slot.A, 4); return;
    case 17: t.uint8(Slot.A); return;
    case 18: return oneOf(t, t.int(Slot.A, 2, 1), [0, 1, 2, 3], 'Duration unit');
    default: // Null, Binary, Utf8, Bool, List, Struct_, Large*, views: empty tables
  }
}

/** Type ids with a member table in the `Type` union (1 Null … 26 LargeListView). */
const TYPE_IDS = Array.from({ length: 26 }, (_, i) => i + 1);

function field(t: Table): void {
  t.string(Slot.A, 'name');
  t.uint8(Slot.B);
  const typeId = t.uint8(Slot.C);
  oneOf(t, typeId, TYPE_IDS, 'type');
  const type = t.table(Slot.D, 'type');
  if (!type) t.v.fail(`${t.what}: no type`);
  typeTable(typeId, type!);
  const dictionary = t.table(Slot.E, 'dictionary');
  if (dictionary) {
    dictionary.int(Slot.A, 8);
    const index = dictionary.table(Slot.B, 'indexType');
    if (index) intType(index);
    dictionary.uint8(Slot.C);
    oneOf(dictionary, dictionary.int(Slot.D, 2), [0], 'dictionaryKind');
  }
  t.tables(Slot.F, 'children', field);
  keyValues(t, Slot.G);
}

function schema(t: Table): void {
  oneOf(t, t.int(Slot.A, 2), [0], 'endianness (only little-endian data is read)');
  t.tables(Slot.B, 'fields', field);
  keyValues(t, Slot.C);
  t.vector(Slot.D, 8, 'features');
}

function recordBatch(t: Table): void {
  t.int(Slot.A, 8);
  t.vector(Slot.B, 16, 'nodes'); // struct FieldNode { length: long; null_count: long }
  t.vector(Slot.C, 16, 'buffers'); // struct Buffer { offset: long; length: long }
  const compression = t.table(Slot.D, 'compression');
  if (compression) t.v.fail(`${t.what}: compressed bodies are not supported`);
  t.vector(Slot.E, 8, 'variadicBufferCounts');
}

/**
 * Verifies one message's metadata (a flatbuffer `Message`, as the bytes
 * after the continuation marker and length) like pyarrow does before it
 * reads anything; calls `fail` with the first problem.
 */
export function verifyMessage(metadata: Uint8Array, fail: (what: string) => never): void {
  const v = new Verifier(metadata, fail);
  const message = v.table(v.offsetTarget(0, 'root'), 0, 'Message');
  oneOf(message, message.int(Slot.A, 2), [...METADATA_VERSIONS], 'metadata version');
  const headerType = message.uint8(Slot.B);
  oneOf(message, headerType, Object.values(HEADERS), 'header type (Schema, DictionaryBatch or RecordBatch)');
  const header = message.table(Slot.C, 'header');
  if (!header) fail('Message: no header');
  if (headerType === HEADERS.Schema) schema(header!);
  else if (headerType === HEADERS.RecordBatch) recordBatch(header!);
  else {
    header!.int(Slot.A, 8);
    const data = header!.table(Slot.B, 'data');
    if (!data) fail('DictionaryBatch: no data');
    recordBatch(data!);
    header!.uint8(Slot.C);
  }
  message.int(Slot.D, 8);
  keyValues(message, Slot.E);
}
