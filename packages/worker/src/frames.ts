/**
 * The worker channel's framing, both directions: a u32 little-endian body
 * length N (1 ≤ N ≤ the frame limit), then N bytes whose first is the frame
 * type. The Python side is `shmbridge/_worker_server.py`, whose docstring
 * lays out every frame; the two must change together.
 */
import { protocolError } from './errors.js';

/** Frame types, as in `_worker_server.py`. */
export const FRAME = {
  CALL: 0x01,
  RELEASE: 0x02,
  READY: 0x10,
  FAILED: 0x11,
  RESULT: 0x12,
  ERROR: 0x13,
  NOFUNC: 0x14,
  CANCELLED: 0x15,
  PROGRESS: 0x16,
  FATAL: 0x17,
} as const;

/** CALL flags: a payload (args, kwargs[, refs]) follows the function name. */
export const CALL_HAS_PAYLOAD = 1;
/** RESULT flags: a payload follows (else the result is None); it is (value, refs). */
export const RESULT_HAS_PAYLOAD = 1;
export const RESULT_HAS_REFS = 2;

/** Bytes before a CALL's function name: length, type, id, flags, name length. */
export const CALL_HEADER = 4 + 1 + 4 + 1 + 2;

/**
 * Splits the bytes Python writes into frames. Whole frames inside one chunk
 * are handed out as views of it (no copy); a frame split across chunks is
 * gathered and joined once it is complete.
 */
export class FrameReader {
  #parts: Buffer[] = [];
  #have = 0;
  #need = 0; // bytes of the frame being gathered (4 + body), or 0 while its length is unknown

  constructor(
    readonly maxFrameBytes: number,
    readonly onFrame: (body: Buffer) => void,
  ) {}

  /**
   * Feeds one chunk; calls `onFrame` for each complete frame, in order.
   * @throws `ERR_WORKER_PROTOCOL` for a frame length of 0 or over the limit
   */
  push(chunk: Buffer): void {
    let data = chunk;
    if (this.#have > 0) {
      this.#parts.push(chunk);
      this.#have += chunk.length;
      if (this.#need === 0 && this.#have >= 4) this.#need = 4 + this.#length(Buffer.concat(this.#parts, 4), 0);
      if (this.#need === 0 || this.#have < this.#need) return;
      data = Buffer.concat(this.#parts, this.#have);
      this.#parts = [];
      this.#have = 0;
      this.#need = 0;
    }
    let pos = 0;
    while (data.length - pos >= 4) {
      const end = pos + 4 + this.#length(data, pos);
      if (end > data.length) break;
      this.onFrame(data.subarray(pos + 4, end));
      pos = end;
    }
    if (pos < data.length) {
      const rest = data.subarray(pos);
      this.#parts = [rest];
      this.#have = rest.length;
      this.#need = rest.length >= 4 ? 4 + this.#length(rest, 0) : 0;
    }
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#have;
  }

  #length(buf: Buffer, at: number): number {
    const n = buf.readUInt32LE(at);
    if (n === 0 || n > this.maxFrameBytes) throw protocolError(`the worker sent a frame of ${n} bytes (the limit is 1 to ${this.maxFrameBytes})`);
    return n;
  }
}
