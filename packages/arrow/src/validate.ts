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
    readonly dictionaries: Map<number, DataType>,
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

  #validity(n: number, nullCount: number): void {
    const b = this.#nextBuffer();
    if (nullCount > 0) this.#atLeast(b, Math.ceil(n / 8), 'validity');
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
        this.#validity(n, nullCount);
        const indices = (type as unknown as { indices: DataType }).indices;
        this.#atLeast(this.#nextBuffer(), n * valueBytes(indices), 'dictionary indices');
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
export function validateBatches(bytes: Uint8Array, messages: MessageSpan[], name: string): void {
  const fail = (what: string): never => {
    throw corruptError(name, `invalid Arrow record batch: ${what}`);
  };
  try {
    check(bytes, messages, fail);
  } catch (err) {
    // apache-arrow's own getters throw plain errors on damaged types ("Unrecognized Int type").
    if ((err as { code?: string }).code === 'ERR_SHM_CORRUPT') throw err;
    fail((err as Error).message);
  }
}

function check(bytes: Uint8Array, messages: MessageSpan[], fail: (what: string) => never): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let schema: Schema | undefined;
  const dictionaries = new Map<number, DataType>();
  const sent = new Set<number>(); // dictionary ids whose batch has arrived
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
      const checker = new BatchChecker(bytes, view, span.bodyStart, batch, dictionaries, fail);
      for (const f of schema.fields) if (checker.field(f.type) < batch.length) fail(`column ${f.name} holds fewer values than the batch's ${batch.length} rows`);
    } else if (message.headerType === MessageHeader.DictionaryBatch) {
      const batch = header as { id: number; data: BatchHeader };
      const type = dictionaries.get(batch.id);
      if (!type) return fail(`a dictionary batch for unknown id ${batch.id}`);
      const checker = new BatchChecker(bytes, view, span.bodyStart, batch.data, dictionaries, fail);
      if (checker.field(type) < batch.data.length) fail(`dictionary ${batch.id} holds fewer values than it claims`);
      sent.add(batch.id);
    }
  }
}
