/**
 * A table as Arrow IPC stream bytes, without joining them into one buffer.
 *
 * `tableToIPC` collects apache-arrow's writer output and joins it: a full
 * copy of every column, which `shareTable` would then copy again into the
 * block. Here the writer's pieces are kept as they come — small metadata
 * pieces and views of the table's own column buffers — and read or copied
 * across piece boundaries, so the data is copied once, into the block.
 */
import { AsyncByteQueue, RecordBatchStreamWriter, type Table } from 'apache-arrow';

/** Bytes held as consecutive pieces. */
export class Pieces {
  readonly byteLength: number;
  readonly #pieces: Uint8Array[];
  /** Where each piece starts in the whole. */
  readonly #starts: number[];

  constructor(pieces: Uint8Array[]) {
    this.#pieces = pieces;
    this.#starts = [];
    let at = 0;
    for (const p of pieces) {
      this.#starts.push(at);
      at += p.byteLength;
    }
    this.byteLength = at;
  }

  /** The piece holding byte `pos` (the last piece starting at or before it). */
  #index(pos: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies `length` bytes from `from` in the whole to `target[to…]`. */
  copyTo(target: Uint8Array, to: number, from: number, length: number): void {
    if (from < 0 || length < 0 || from + length > this.byteLength) throw new RangeError(`bytes [${from}, +${length}) are outside ${this.byteLength}`);
    for (let i = this.#index(from); length > 0; i++) {
      const piece = this.#pieces[i]!;
      const offset = from - this.#starts[i]!;
      const n = Math.min(length, piece.byteLength - offset);
      if (n <= 0) continue; // an empty piece
      target.set(piece.subarray(offset, offset + n), to);
      to += n;
      from += n;
      length -= n;
    }
  }

  /** `length` bytes from `from`: a view when they lie in one piece, else a copy. */
  read(from: number, length: number): Uint8Array {
    const i = this.#index(from);
    const offset = from - this.#starts[i]!;
    const piece = this.#pieces[i]!;
    if (offset + length <= piece.byteLength) return piece.subarray(offset, offset + length);
    const out = new Uint8Array(length);
    this.copyTo(out, 0, from, length);
    return out;
  }
}

/** apache-arrow's byte sink, keeping each piece the writer hands it instead of joining them. */
class PieceSink extends AsyncByteQueue {
  readonly pieces: Uint8Array[] = [];
  override write(piece: unknown): void {
    this.pieces.push(piece as Uint8Array);
  }
}

/** `table` as an IPC stream (schema, dictionaries, batches, end marker), in pieces. */
export function streamPieces(table: Table): Pieces {
  const sink = new PieceSink();
  const writer = new RecordBatchStreamWriter();
  writer.reset(sink, table.schema);
  writer.write(table);
  writer.finish();
  return new Pieces(sink.pieces);
}
