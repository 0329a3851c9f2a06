/**
 * CPython's `multiprocessing.connection` over a stream socket, byte for byte:
 * the length-prefixed frames of `Connection._send_bytes`/`_recv_bytes` and the
 * HMAC challenge of `deliver_challenge`/`answer_challenge`, in both the
 * ≤ 3.11 form (20-byte challenge, raw HMAC-MD5 reply) and the ≥ 3.12 form
 * (`{sha256}`-prefixed challenge and reply, gh-61460).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { authError, connectionError } from '@shmbridge/core';

/** Where a manager listens: a Unix socket path, or a TCP `[host, port]`. */
export type Address = string | readonly [host: string, port: number];

/** connection.py: frames of up to 0x7fffffff bytes have a 4-byte header, longer ones -1 and an 8-byte one. */
const MAX_SHORT_FRAME = 0x7fffffff;

/**
 * Receives a whole frame from a socket, or fails; never buffers more than the
 * frame it was allowed to read. A frame is refused from its header alone, so a
 * peer that announces 4 GiB costs nothing.
 */
export class Connection {
  readonly #socket: Socket;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('error', (err) => {
      this.#failure = err;
      this.#notify();
    });
  }

  /** Opens a socket to `address` and resolves once connected. */
  static connect(address: Address): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = typeof address === 'string' ? netConnect(address) : netConnect(address[1], address[0]);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #take(n: number): Promise<Buffer> {
    while (this.#buffered < n) {
      if (this.#failure) throw this.#failure;
      if (this.#ended) throw connectionError(this.#buffered === 0 ? 'connection closed by peer' : 'got end of file during message');
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }

  /**
   * Reads one frame. Frames longer than `maxSize` are refused (as
   * `recv_bytes(maxsize)`), and the connection must then be closed: the frame's
   * bytes are left unread.
   * @throws `ERR_SHM_CONNECTION` on EOF, `ERR_SHM_FRAME_TOO_LARGE` for an oversized frame
   */
  async recvBytes(maxSize = Infinity): Promise<Buffer> {
    let size = (await this.#take(4)).readInt32BE(0);
    if (size === -1) {
      const long = (await this.#take(8)).readBigUInt64BE(0);
      size = long > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(long);
    } else if (size < 0) {
      throw connectionError(`invalid frame length ${size}`);
    }
    if (size > maxSize) {
      throw Object.assign(connectionError(`frame of ${size} bytes exceeds the limit of ${maxSize}`), { code: 'ERR_SHM_FRAME_TOO_LARGE' });
    }
    return this.#take(size);
  }

  /** Writes one frame (4-byte big-endian length, or -1 and an 8-byte length past 2 GiB). */
  sendBytes(data: Uint8Array): void {
    if (data.length > MAX_SHORT_FRAME) {
      const header = Buffer.alloc(12);
      header.writeInt32BE(-1, 0);
      header.writeBigUInt64BE(BigInt(data.length), 4);
      this.#socket.write(header);
      this.#socket.write(data);
    } else {
      // One write, like connection.py does for small frames (Nagle, bpo-20540).
      const frame = Buffer.allocUnsafe(4 + data.length);
      frame.writeInt32BE(data.length, 0);
      frame.set(data, 4);
      this.#socket.write(frame);
    }
  }

  /** Lets the process exit while this connection is idle (`socket.unref()`), or not. */
  hold(held: boolean): void {
    if (held) this.#socket.ref();
    else this.#socket.unref();
  }

  /** Whether the peer has closed or the socket failed. */
  get closed(): boolean {
    return this.#ended || this.#failure !== undefined || this.#socket.destroyed;
  }

  /** Ends the connection; pending reads fail with `ERR_SHM_CONNECTION`. */
  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }

  /** Closes at once, without flushing (for a misbehaving peer). */
  destroy(): void {
    this.#socket.destroy();
  }
}

const CHALLENGE = Buffer.from('#CHALLENGE#');
const WELCOME = Buffer.from('#WELCOME#');
const FAILURE = Buffer.from('#FAILURE#');
const MESSAGE_LENGTH = 40;
/** ≤ 3.11 servers send 20 random bytes; ≤ 3.11 clients reply with a bare 16-byte HMAC-MD5. */
const LEGACY_LENGTHS = new Set([20, 16]);
/** connection.py `_ALLOWED_DIGESTS`, with Node's names for them. */
const DIGESTS = new Map([
  ['md5', 'md5'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha3_256', 'sha3-256'],
  ['sha3_384', 'sha3-384'],
]);
const MAX_DIGEST_NAME = 8;
/** Handshake frames are small; connection.py reads them with `recv_bytes(256)`. */
const AUTH_FRAME_LIMIT = 256;

/** connection.py `_get_digest_name_and_payload`: '' means the legacy MD5 form. */
function digestOf(message: Buffer): { name: string; payload: Buffer } {
  if (LEGACY_LENGTHS.has(message.length)) return { name: '', payload: message };
  if (message[0] === 0x7b /* { */) {
    const close = message.indexOf(0x7d /* } */, 1);
    if (close > 0 && close <= MAX_DIGEST_NAME + 1) {
      const name = message.subarray(1, close).toString('ascii');
      if (DIGESTS.has(name)) return { name, payload: message.subarray(close + 1) };
    }
  }
  throw authError('unsupported message length, missing digest prefix, or unsupported digest');
}

function hmac(authkey: Uint8Array, message: Uint8Array, name: string): Buffer {
  return createHmac(DIGESTS.get(name)!, authkey).update(message).digest();
}

async function recvAuthFrame(conn: Connection): Promise<Buffer> {
  try {
    return await conn.recvBytes(AUTH_FRAME_LIMIT);
  } catch (err) {
    throw authError(`handshake failed: ${(err as Error).message}`);
  }
}

/**
 * Server half (`deliver_challenge`): sends a `{sha256}` challenge and checks
 * the peer's HMAC, accepting the legacy bare HMAC-MD5 reply of ≤ 3.11 clients.
 * @throws `ERR_SHM_AUTH` if the reply is wrong (after telling the peer `#FAILURE#`)
 */
export async function deliverChallenge(conn: Connection, authkey: Uint8Array, digestName = 'sha256'): Promise<void> {
  const message = Buffer.concat([Buffer.from(`{${digestName}}`), randomBytes(MESSAGE_LENGTH)]);
  conn.sendBytes(Buffer.concat([CHALLENGE, message]));
  const response = await recvAuthFrame(conn);
  let ok = false;
  try {
    const { name, payload } = digestOf(response);
    const expected = hmac(authkey, message, name || 'md5');
    ok = expected.length === payload.length && timingSafeEqual(expected, payload);
  } catch {
    ok = false;
  }
  if (!ok) {
    conn.sendBytes(FAILURE);
    throw authError('digest received was wrong');
  }
  conn.sendBytes(WELCOME);
}

/**
 * Client half (`answer_challenge`): answers in the form the server asked for —
 * bare HMAC-MD5 to a 20-byte legacy challenge, `{digest}`-prefixed otherwise.
 * @throws `ERR_SHM_AUTH` if the server rejects the reply or speaks no known form
 */
export async function answerChallenge(conn: Connection, authkey: Uint8Array): Promise<void> {
  const frame = await recvAuthFrame(conn);
  if (!frame.subarray(0, CHALLENGE.length).equals(CHALLENGE)) throw authError('protocol error, expected a challenge');
  const message = frame.subarray(CHALLENGE.length);
  if (message.length < 20) throw authError(`challenge too short: ${message.length} bytes`);
  const { name } = digestOf(message);
  const mac = hmac(authkey, message, name || 'md5');
  conn.sendBytes(name ? Buffer.concat([Buffer.from(`{${name}}`), mac]) : mac);
  const response = await recvAuthFrame(conn);
  if (!response.equals(WELCOME)) throw authError('digest sent was rejected');
}
