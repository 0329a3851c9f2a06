/**
 * Validation of record batches against their schema, before apache-arrow
 * reads a single value. apache-arrow JS trusts a stream's lengths (it has no
 * counterpart of pyarrow's `validate()`), so a hostile block could claim a
 * list of two billion items in a few bytes and make a plain read allocate
 * without bound. This walks every batch the way apache-arrow's VectorLoader
 * (visitor/vectorloader.ts) assigns field nodes and buffers, and checks that
 * every buffer is as long as its type needs and every offset stays in range.
 */
import { DataType, Message, MessageHeader, Type, type Field, type Schema } from 'apache-arrow';
import { strideForType } from 'apache-arrow/type';
import { corruptError } from '@shmbridge/core';
import type { MessageSpan } from './ipc-stream.js';

interface Region {
  offset: number;
  length: number;
}

interface BatchHeader {
  length: number;
  nodes: Array<{ length: number; nullCount: number }>;
  buffers: Region[];
}

/** The first non-null row whose index is outside [0, size), or -1. Kept apart per width so each loop stays monomorphic. */
function firstOutside(values: ArrayLike<number>, size: number, validity: Uint8Array | undefined): number {
  const n = values.length;
  if (!validity) {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v < 0 || v >= size) return i;
    }
    return -1;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if ((v < 0 || v >= size) && (validity[i >> 3]! >> (i & 7)) & 1) return i;
  }
  return -1;
}

function firstOutside64(values: BigInt64Array | BigUint64Array, size: bigint, validity: Uint8Array | undefined): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((v < 0n || v >= size) && (!validity || (validity[i >> 3]! >> (i & 7)) & 1)) return i;
  }
  return -1;
}

/** Bytes per value of a fixed-width type (apache-arrow's ArrayType × stride). */
function valueBytes(type: DataType): number {
  const ArrayType = (type as unknown as { ArrayType: { BYTES_PER_ELEMENT: number } }).ArrayType;
  return ArrayType.BYTES_PER_ELEMENT * strideForType(type);
}

class BatchChecker {
  #node = 0;
  #buffer = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly bodyStart: number,
    readonly header: BatchHeader,
    /** Values each dictionary holds so far (its batches, deltas added). */
    readonly dictionaryLengths: Map<number, number>,
    readonly fail: (what: string) => never,
  ) {}

  #nextNode(): { length: number; nullCount: number } {
    const node = this.header.nodes[this.#node++];
    if (!node) this.fail('fewer field nodes than the schema has fields');
    return node!;
  }

  #nextBuffer(): Region {
    const b = this.header.buffers[this.#buffer++];
    if (!b) this.fail('fewer buffers than the schema needs');
    return b!;
  }

  #atLeast(region: Region, bytes: number, what: string): Region {
    if (region.length < bytes) this.fail(`${what} buffer has ${region.length} bytes, ${bytes} needed`);
    return region;
  }

  /** The validity bitmap when it says anything (nulls), else undefined. */
  #validity(n: number, nullCount: number): Uint8Array | undefined {
    const b = this.#nextBuffer();
    if (nullCount === 0) return undefined;
    this.#atLeast(b, Math.ceil(n / 8), 'validity');
    return this.bytes.subarray(this.bodyStart + b.offset, this.bodyStart + b.offset + Math.ceil(n / 8));
  }

  /**
   * Every non-null index must name a value of its dictionary: apache-arrow
   * reads an index past the end as a missing value, silently, where pyarrow's
   * validation refuses it. One pass over the indices: ~2 ms per million rows on
   * this project's 2-vCPU VM, the one check here whose cost grows with the data.
   */
  #indices(region: Region, n: number, type: DataType, size: number, validity: Uint8Array | undefined, id: number): void {
    const Ctor = (type as unknown as { ArrayType: new (b: ArrayBufferLike, o: number, l: number) => ArrayLike<number | bigint> }).ArrayType;
    const values = new Ctor(this.bytes.buffer, this.bytes.byteOffset + this.bodyStart + region.offset, n);
    const bad = values instanceof BigInt64Array || values instanceof BigUint64Array
      ? firstOutside64(values, BigInt(size), validity)
      : firstOutside(values as ArrayLike<number>, size, validity);
    if (bad >= 0) this.fail(`dictionary index ${values[bad]} at row ${bad} is outside dictionary ${id} (${size} values)`);
  }

  /** Checks n+1 offsets of `width` bytes: non-decreasing, from ≥ 0; returns the last. */
  #offsets(n: number, width: 4 | 8): number {
    const b = this.#atLeast(this.#nextBuffer(), (n + 1) * width, 'offsets');
    let at = this.bodyStart + b.offset;
    let prev = -1;
    for (let i = 0; i <= n; i++, at += width) {
      const v = width === 4 ? this.view.getInt32(at, true) : Number(this.view.getBigInt64(at, true));
      if (v < 0 || v < prev || !Number.isSafeInteger(v)) this.fail(`offset ${i} (${v}) is negative or smaller than the one before`);
      prev = v;
    }
    return n === 0 ? 0 : prev;
  }

  /** Checks one field (and its children); returns the number of values it holds. */
  field(type: DataType): number {
    const { length: n, nullCount } = this.#nextNode();
    switch (type.typeId) {
      case Type.Null:
        return n;
      case Type.Bool:
        this.#validity(n, nullCount);
        this.#atLeast(this.#nextBuffer(), Math.ceil(n / 8), 'bool data');
        return n;
      case Type.Utf8:
      case Type.Binary:
      case Type.LargeUtf8:
      case Type.LargeBinary: {
        this.#validity(n, nullCount);
        const last = this.#offsets(n, type.typeId === Type.Utf8 || type.typeId === Type.Binary ? 4 : 8);
        this.#atLeast(this.#nextBuffer(), last, 'string/binary data');
        return n;
      }
      case Type.List:
      case Type.Map: {
        this.#validity(n, nullCount);
        const last = this.#offsets(n, 4);
        const child = this.field(type.children[0]!.type);
        if (child < last) this.fail(`list offsets reach ${last} but the child holds ${child} values`);
        return n;
      }
      case Type.FixedSizeList: {
        this.#validity(n, nullCount);
        const size = (type as unknown as { listSize: number }).listSize;
        const child = this.field(type.children[0]!.type);
        if (child < n * size) this.fail(`fixed-size list of ${n} × ${size} values has a child of ${child}`);
        return n;
      }
      case Type.Struct: {
        this.#validity(n, nullCount);
        for (const f of type.children) if (this.field(f.type) < n) this.fail(`a struct child holds fewer than ${n} values`);
        return n;
      }
      case Type.Dictionary: {
        const validity = this.#validity(n, nullCount);
        const { indices, id } = type as unknown as { indices: DataType; id: number };
        const region = this.#atLeast(this.#nextBuffer(), n * valueBytes(indices), 'dictionary indices');
        this.#indices(region, n, indices, this.dictionaryLengths.get(id) ?? 0, validity, id);
        return n;
      }
      case Type.Union: {
        const dense = (type as unknown as { mode: number }).mode === 1;
        this.#atLeast(this.#nextBuffer(), n, 'union type ids');
        if (dense) this.#atLeast(this.#nextBuffer(), n * 4, 'union offsets');
        for (const f of type.children) {
          const child = this.field(f.type);
          if (!dense && child < n) this.fail(`a sparse union child holds fewer than ${n} values`);
        }
        return n;
      }
      case Type.Int:
      case Type.Float:
      case Type.Date:
      case Type.Time:
      case Type.Timestamp:
      case Type.Interval:
      case Type.Duration:
      case Type.Decimal:
      case Type.FixedSizeBinary:
        this.#validity(n, nullCount);
        this.#atLeast(this.#nextBuffer(), n * valueBytes(type), `${type} data`);
        return n;
      default:
        return this.fail(`type ${type} is not supported in shared tables`);
    }
  }
}

/**
 * Checks every dictionary and record batch of a walked stream against the
 * stream's schema. Throws `ERR_SHM_CORRUPT` naming the block.
 */
/** Options of {@link validateBatches} (and of `attachTable`/`readTable`). */
export interface ValidateOptions {
  /**
   * Most rows a record batch may claim when none of its columns takes bytes
   * per row (only Null columns, or structs of them). Such a batch costs
   * nothing to claim: 224 bytes can declare 2^31 − 1 nulls, which
   * `toArray()` then tries to build (pyarrow calls the stream valid too).
   * Every other batch's rows are bounded by its buffers. Default 2^20.
   */
  maxZeroWidthRows?: number;
}

/** A type whose values take no bytes per row (Null, and structs or fixed-size lists of such types). */
function zeroWidth(type: DataType): boolean {
  if (type.typeId === Type.Null) return true;
  if (type.typeId === Type.Struct || type.typeId === Type.FixedSizeList) return type.children.every((f) => zeroWidth(f.type));
  return false;
}

export function validateBatches(bytes: Uint8Array, messages: MessageSpan[], name: string, options: ValidateOptions = {}): void {
  const fail = (what: string): never => {
    throw corruptError(name, `invalid Arrow record batch: ${what}`);
  };
  try {
    check(bytes, messages, fail, options.maxZeroWidthRows ?? 1 << 20);
  } catch (err) {
    // apache-arrow's own getters throw plain errors on damaged types ("Unrecognized Int type").
    if ((err as { code?: string }).code === 'ERR_SHM_CORRUPT') throw err;
    fail((err as Error).message);
  }
}

function check(bytes: Uint8Array, messages: MessageSpan[], fail: (what: string) => never, maxZeroWidthRows: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let schema: Schema | undefined;
  const dictionaries = new Map<number, DataType>();
  const sent = new Map<number, number>(); // dictionary id -> values received so far
  for (const span of messages) {
    let message: Message;
    let header: unknown;
    try {
      message = Message.decode(bytes.subarray(span.metaStart, span.metaStart + span.metaLength));
      header = message.header(); // decoded lazily: unknown types and bad tables throw here
    } catch (err) {
      return fail(`message at byte ${span.start}: ${(err as Error).message}`);
    }
    if (message.headerType === MessageHeader.Schema) {
      schema = header as Schema;
      const collect = (fields: Field[]) => {
        for (const f of fields) {
          // apache-arrow's struct rows and getChild key on names; a damaged schema can leave none.
          if (typeof f.name !== 'string') fail('a field has no name');
          if (DataType.isDictionary(f.type)) dictionaries.set(f.type.id, f.type.dictionary);
          collect(f.type.children ?? []);
        }
      };
      collect(schema.fields);
      continue;
    }
    if (!schema) return fail('a batch before the schema');
    if (message.headerType === MessageHeader.RecordBatch) {
      for (const id of dictionaries.keys()) if (!sent.has(id)) fail(`a record batch comes before dictionary ${id}`);
      const batch = header as BatchHeader;
      if (batch.length > maxZeroWidthRows && schema.fields.every((f) => zeroWidth(f.type))) {
        fail(`a record batch claims ${batch.length} rows of columns that take no bytes (more than maxZeroWidthRows, ${maxZeroWidthRows})`);
      }
      const checker = new BatchChecker(bytes, view, span.bodyStart, batch, sent, fail);
      for (const f of schema.fields) if (checker.field(f.type) < batch.length) fail(`column ${f.name} holds fewer values than the batch's ${batch.length} rows`);
    } else if (message.headerType === MessageHeader.DictionaryBatch) {
      const batch = header as { id: number; data: BatchHeader; isDelta: boolean };
      const type = dictionaries.get(batch.id);
      if (!type) return fail(`a dictionary batch for unknown id ${batch.id}`);
      const checker = new BatchChecker(bytes, view, span.bodyStart, batch.data, sent, fail);
      if (checker.field(type) < batch.data.length) fail(`dictionary ${batch.id} holds fewer values than it claims`);
      sent.set(batch.id, (batch.isDelta ? sent.get(batch.id) ?? 0 : 0) + batch.data.length);
    }
  }
}
