/**
 * The Arrow IPC stream format, at the level of messages (no values):
 * walking a stream that another process wrote (untrusted), recognising one,
 * and re-laying one out so every body buffer starts on a 64-byte boundary.
 *
 * A stream is a sequence of encapsulated messages — 0xFFFFFFFF, an int32
 * metadata length, a flatbuffer `Message` (padded), then `bodyLength` bytes of
 * body — closed by 0xFFFFFFFF 0x00000000 (format/Columnar.rst, "Encapsulated
 * message format"). apache-arrow JS and pyarrow both align buffers to 8 bytes;
 * Arrow recommends 64 (SIMD-friendly, and what SPEC asks of shared tables).
 */
import * as flatbuffers from 'flatbuffers';
import { corruptError } from '@shmbridge/core';
import { Pieces } from './serialize.js';
import { verifyMessage } from './verify-metadata.js';
import { DictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema } from 'apache-arrow/fb/schema';

const CONTINUATION = 0xffffffff;
const MAX_ROWS = 2n ** 31n - 1n;
const ALIGN = 64;

export interface MessageSpan {
  /** Where the message starts (its continuation marker). */
  start: number;
  /** Where the flatbuffer metadata starts (after the marker and the length word), and its length with padding. */
  metaStart: number;
  metaLength: number;
  bodyStart: number;
  bodyLength: number;
  headerType: MessageHeader;
  /** [offset, length] of each body buffer, relative to the body. */
  buffers: Array<[number, number]>;
}

function recordBatchOf(message: Message): RecordBatch | null {
  if (message.headerType() === MessageHeader.RecordBatch) return message.header(new RecordBatch()) as RecordBatch | null;
  if (message.headerType() === MessageHeader.DictionaryBatch) return (message.header(new DictionaryBatch()) as DictionaryBatch | null)?.data() ?? null;
  return null;
}

/**
 * apache-arrow's decoder materializes flatbuffer vectors eagerly
 * (`Array.from({ length: nodesLength() })`), so a corrupted vector length
 * would allocate billions of entries before any bounds check. Every vector it
 * decodes must therefore fit in the metadata bytes first. Returns its length.
 */
function vectorFits(bb: flatbuffers.ByteBuffer, table: number, slot: number, elementSize: number, what: string, fail: (w: string) => never): number {
  if (table < 0 || table + 4 > bb.capacity()) fail(`${what}: table outside the metadata`);
  const o = bb.__offset(table, slot);
  if (!o) return 0;
  if (table + o + 4 > bb.capacity()) fail(`${what}: field outside the metadata`);
  const start = bb.__vector(table + o);
  const length = bb.__vector_len(table + o);
  if (start < 0 || length < 0 || start + length * elementSize > bb.capacity()) fail(`${what} vector of ${length} entries runs past the metadata`);
  return length;
}

/** Schema: fields (and their children, recursively), custom metadata, features. */
function checkSchemaVectors(schema: Schema, fail: (w: string) => never): void {
  const bb = schema.bb!;
  let budget = bb.capacity(); // every field costs at least 4 bytes, so this bounds the walk
  const field = (f: { bb_pos: number }, depth: number): void => {
    if (depth > 64 || --budget < 0) fail('schema nested too deeply');
    const children = vectorFits(bb, f.bb_pos, 14, 4, 'field children', fail);
    vectorFits(bb, f.bb_pos, 16, 4, 'field custom metadata', fail);
    const fb = f as unknown as { children(i: number): { bb_pos: number } | null };
    for (let i = 0; i < children; i++) field(fb.children(i)!, depth + 1);
  };
  const fields = vectorFits(bb, schema.bb_pos, 6, 4, 'schema fields', fail);
  vectorFits(bb, schema.bb_pos, 8, 4, 'schema custom metadata', fail);
  vectorFits(bb, schema.bb_pos, 10, 8, 'schema features', fail);
  for (let i = 0; i < fields; i++) field(schema.fields(i)!, 0);
}

/** RecordBatch: nodes and buffers (16-byte structs), variadic buffer counts. */
function checkBatchVectors(rb: RecordBatch, fail: (w: string) => never): void {
  vectorFits(rb.bb!, rb.bb_pos, 6, 16, 'field nodes', fail);
  vectorFits(rb.bb!, rb.bb_pos, 8, 16, 'buffers', fail);
  vectorFits(rb.bb!, rb.bb_pos, 12, 8, 'variadic buffer counts', fail);
}

function safe(n: bigint, what: string, fail: (w: string) => never): number {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${n} is out of range`);
  return Number(n);
}

/**
 * Walks every message of a stream and checks that it lies inside `bytes`:
 * markers, metadata lengths, body lengths, every buffer inside its body, an
 * end-of-stream marker, and a Schema first. Throws `ERR_SHM_CORRUPT` naming
 * the block otherwise. Returns the messages and where the stream ends.
 */
export function walkStream(bytes: Uint8Array, name: string): { messages: MessageSpan[]; end: number } {
  const fail = (what: string): never => {
    throw corruptError(name, `not a valid Arrow IPC stream: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: MessageSpan[] = [];
  let pos = 0;
  for (;;) {
    if (pos + 8 > bytes.length) fail(`truncated at byte ${pos} (no end-of-stream marker)`);
    let metaLength = view.getInt32(pos, true);
    let metaStart = pos + 4;
    if (view.getUint32(pos, true) === CONTINUATION) {
      metaLength = view.getInt32(pos + 4, true);
      metaStart = pos + 8;
    }
    if (metaLength === 0) return { messages, end: metaStart };
    if (metaLength < 0 || metaStart + metaLength > bytes.length) fail(`message at byte ${pos} has metadata of ${metaLength} bytes, past the end (${bytes.length})`);
    let message: Message;
    let headerType: MessageHeader;
    let bodyLength: number;
    const buffers: Array<[number, number]> = [];
    try {
      const metadata = bytes.subarray(metaStart, metaStart + metaLength);
      if (metaLength < 8) fail(`message at byte ${pos} has ${metaLength} bytes of metadata`);
      // What pyarrow's flatbuffers verifier refuses is refused here, before any getter reads it.
      verifyMessage(metadata, (what) => fail(`message at byte ${pos}: ${what}`));
      const bb = new flatbuffers.ByteBuffer(metadata);
      message = Message.getRootAsMessage(bb);
      vectorFits(bb, message.bb_pos, 12, 4, 'message custom metadata', fail);
      headerType = message.headerType();
      bodyLength = safe(message.bodyLength(), 'body length', fail);
      if (headerType === MessageHeader.Schema) {
        const schema = message.header(new Schema()) as Schema | null;
        if (!schema) fail(`message at byte ${pos} has no schema`);
        checkSchemaVectors(schema!, fail);
      }
      const rb = recordBatchOf(message);
      if (rb) {
        checkBatchVectors(rb, fail);
        // Row counts cost nothing to claim (a Null column has no buffers), so bound them:
        // apache-arrow indexes rows with int32.
        const rows = rb.length();
        if (rows < 0n || rows > MAX_ROWS) fail(`a record batch claims ${rows} rows`);
        for (let i = 0; i < rb.nodesLength(); i++) {
          const node = rb.nodes(i)!;
          if (node.length() < 0n || node.length() > MAX_ROWS || node.nullCount() < 0n || node.nullCount() > node.length()) {
            fail(`field node ${i} claims ${node.length()} values with ${node.nullCount()} nulls`);
          }
        }
        for (let i = 0; i < rb.buffersLength(); i++) {
          const b = rb.buffers(i)!;
          buffers.push([safe(b.offset(), 'buffer offset', fail), safe(b.length(), 'buffer length', fail)]);
        }
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SHM_CORRUPT') throw err;
      return fail(`message at byte ${pos} has unreadable metadata (${(err as Error).message})`);
    }
    if (messages.length === 0 && headerType !== MessageHeader.Schema) fail('the first message is not a Schema');
    const bodyStart = metaStart + metaLength;
    if (bodyStart + bodyLength > bytes.length) fail(`message at byte ${pos} has a body of ${bodyLength} bytes, past the end (${bytes.length})`);
    for (const [offset, length] of buffers) {
      if (offset + length > bodyLength) fail(`a buffer [${offset}, +${length}) of the message at byte ${pos} lies outside its ${bodyLength}-byte body`);
      // The IPC format aligns every buffer to 8 bytes; pyarrow refuses one that is not.
      if ((bodyStart + offset) % 8 !== 0) fail(`a buffer at body offset ${offset} of the message at byte ${pos} is not 8-byte aligned`);
    }
    messages.push({ start: pos, metaStart, metaLength, bodyStart, bodyLength, headerType, buffers });
    pos = bodyStart + bodyLength;
  }
}

/** Whether `bytes` starts like an Arrow IPC stream (a continuation marker and a Schema message). */
export function isArrowStream(bytes: Uint8Array): boolean {
  if (bytes.length < 16) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== CONTINUATION) return false;
  const metaLength = view.getInt32(4, true);
  if (metaLength <= 0 || 8 + metaLength > bytes.length) return false;
  try {
    const m = Message.getRootAsMessage(new flatbuffers.ByteBuffer(bytes.subarray(8, 8 + metaLength)));
    return m.headerType() === MessageHeader.Schema;
  } catch {
    return false;
  }
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** One message of a stream we serialized ourselves (trusted: apache-arrow's writer). */
function* ownMessages(src: Pieces): Generator<{ metaStart: number; metaLength: number; bodyStart: number; bodyLength: number; buffers: Array<[number, number]> }> {
  let pos = 0;
  for (;;) {
    const head = new DataView(src.read(pos, 8).slice().buffer);
    const metaLength = head.getInt32(4, true);
    if (head.getUint32(0, true) !== CONTINUATION || metaLength < 0) throw new Error(`apache-arrow wrote an unexpected message header at byte ${pos}`);
    if (metaLength === 0) return;
    const metaStart = pos + 8;
    const message = Message.getRootAsMessage(new flatbuffers.ByteBuffer(src.read(metaStart, metaLength)));
    const bodyLength = Number(message.bodyLength());
    const rb = recordBatchOf(message);
    const buffers: Array<[number, number]> = [];
    for (let i = 0; rb && i < rb.buffersLength(); i++) buffers.push([Number(rb.buffers(i)!.offset()), Number(rb.buffers(i)!.length())]);
    const bodyStart = metaStart + metaLength;
    yield { metaStart, metaLength, bodyStart, bodyLength, buffers };
    pos = bodyStart + bodyLength;
  }
}

/**
 * The same stream with every body (and every buffer in it) starting on a
 * 64-byte boundary of the output. Metadata is padded so each body starts
 * aligned; buffer offsets and body lengths are patched in each message's
 * flatbuffer (they are fixed-size fields, so nothing moves). Returns the
 * output size and a function that writes it into a zero-filled target of
 * that size (a new block is), so the padding needs no writing. The stream
 * may come in pieces ({@link streamPieces}): bodies are copied straight from
 * them, once.
 */
export function align64(stream: Uint8Array | Pieces): { byteLength: number; writeTo(target: Uint8Array): void } {
  const src = stream instanceof Pieces ? stream : new Pieces([stream]);
  const plan: Array<{ at: number; meta: Uint8Array; bodyAt: number; copies: Array<[from: number, to: number, length: number]> }> = [];
  let out = 0;
  for (const m of ownMessages(src)) {
    const meta = src.read(m.metaStart, m.metaLength).slice(); // patched below: never the source's bytes
    // body must start at a multiple of 64: pad the metadata (its length includes the padding)
    const metaLength = align(out + 8 + m.metaLength, ALIGN) - out - 8;
    const bodyAt = out + 8 + metaLength;
    const copies: Array<[number, number, number]> = [];
    let cursor = 0;
    const bb = new flatbuffers.ByteBuffer(meta);
    const message = Message.getRootAsMessage(bb);
    const rb = recordBatchOf(message);
    m.buffers.forEach(([offset, length], i) => {
      const to = align(cursor, ALIGN);
      copies.push([m.bodyStart + offset, bodyAt + to, length]);
      const field = rb!.buffers(i)!;
      bb.writeInt64(field.bb_pos, BigInt(to));
      cursor = to + length;
    });
    const bodyLength = align(cursor, 8);
    if (bodyLength !== m.bodyLength) {
      const field = bb.__offset(message.bb_pos, 10);
      if (!field) throw new Error('message without a bodyLength field cannot grow a body');
      bb.writeInt64(message.bb_pos + field, BigInt(bodyLength));
    }
    const padded = new Uint8Array(metaLength);
    padded.set(meta);
    plan.push({ at: out, meta: padded, bodyAt, copies });
    out = bodyAt + bodyLength;
  }
  const byteLength = out + 8; // end-of-stream marker
  return {
    byteLength,
    writeTo(target: Uint8Array): void {
      const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
      for (const p of plan) {
        view.setUint32(p.at, CONTINUATION, true);
        view.setInt32(p.at + 4, p.meta.length, true);
        target.set(p.meta, p.at + 8);
        for (const [from, to, length] of p.copies) src.copyTo(target, to, from, length);
      }
      view.setUint32(out, CONTINUATION, true);
      view.setInt32(out + 4, 0, true);
    },
  };
}
