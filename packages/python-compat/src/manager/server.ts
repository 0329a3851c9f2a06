/**
 * The manager's server: what CPython's `SharedMemoryServer` does
 * (`multiprocessing/managers.py`), for CPython and TS clients alike.
 *
 * A connection starts as `Server._handle_request` serves it: the mutual HMAC
 * challenge, a pickled `(ident, funcname, args, kwds)`, a pickled reply. CPython
 * clients then close; shmbridge's own client may send more requests on the
 * same authenticated connection, which are served in turn until the peer
 * closes (re-connecting and re-authenticating per request is most of a
 * request's cost). Only the public functions a SharedMemoryManager client
 * uses are served; anything else gets CPython's `#TRACEBACK` reply. Requests
 * are decoded with no pickle globals allowed at all, frames are capped, a bad
 * frame or pickle closes the connection after the error reply, and a failure
 * on one connection never reaches another.
 */
import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { checkName, unlinkBlock } from '@shmbridge/core';
import { Connection, answerChallenge, deliverChallenge, type Address } from './connection.js';
import { decodeRequest, encodeReply, remoteTraceback, type Request, type Reply } from './protocol.js';

/** A request is a short tuple; nothing a client sends legitimately comes near this. */
const MAX_REQUEST_BYTES = 1 << 20;
/** A connection that has not finished its handshake and first request by then is dropped. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Raised inside a handler to produce CPython's traceback text for that exception type. */
class PythonException extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

export interface ManagerServerOptions {
  address: Address;
  authkey: Uint8Array;
  /** Called after a `shutdown` request has been answered. */
  onShutdown?: () => void;
}

/** The blocks a manager tracks and the socket it serves them on. */
export class ManagerServer {
  /** Tracked block names, in order, duplicates kept (CPython's `_SharedMemoryTracker.segment_names`). */
  readonly segments: string[] = [];
  readonly #options: ManagerServerOptions;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #address: Address | undefined;

  constructor(options: ManagerServerOptions) {
    this.#options = options;
  }

  /** The bound address (the real port when 0 was asked for). */
  get address(): Address {
    if (!this.#address) throw new Error('manager server is not listening');
    return this.#address;
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<Address> {
    const server = createServer((socket) => void this.#serve(socket));
    this.#server = server;
    const requested = this.#options.address;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        const bound = server.address();
        if (typeof requested === 'string') {
          chmodSync(requested, 0o600); // only its owner may connect (the directory is 0700 too)
          this.#address = requested;
        } else {
          this.#address = [requested[0], typeof bound === 'object' && bound ? bound.port : requested[1]];
        }
        resolve(this.#address);
      };
      if (typeof requested === 'string') server.listen(requested, 128, done);
      else server.listen(requested[1], requested[0], 128, done);
    });
  }

  async #serve(socket: Socket): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    const conn = new Connection(socket);
    try {
      await deliverChallenge(conn, this.#options.authkey);
      await answerChallenge(conn, this.#options.authkey);
    } catch {
      conn.destroy(); // wrong key or not a manager client: nothing is read from it
      return;
    }
    for (let first = true; ; first = false) {
      let frame: Buffer;
      try {
        frame = await conn.recvBytes(MAX_REQUEST_BYTES);
      } catch (err) {
        // The peer closed (every CPython client does after its one request), or sent an oversized frame.
        if (!first && (err as { code?: string }).code === 'ERR_SHM_CONNECTION') return conn.destroy();
        conn.sendBytes(encodeReply(['#TRACEBACK', remoteTraceback('ValueError', (err as Error).message)]));
        return conn.close();
      }
      if (first) socket.setTimeout(0); // authenticated and talking: no idle limit from here on
      let reply: Reply;
      let shutdown = false;
      let fatal = false;
      try {
        const request = decodeRequest(frame);
        shutdown = request.funcname === 'shutdown';
        reply = ['#RETURN', this.#dispatch(request)];
      } catch (err) {
        fatal = !(err instanceof PythonException); // a bad pickle: answer, then close
        reply = ['#TRACEBACK', remoteTraceback(err instanceof PythonException ? err.type : 'ValueError', (err as Error).message)];
      }
      conn.sendBytes(encodeReply(reply));
      if (shutdown || fatal) {
        conn.close();
        if (shutdown) this.#options.onShutdown?.();
        return;
      }
    }
  }

  #dispatch(request: Request): unknown {
    const { funcname, args, kwds } = request;
    const arg = (name: string): unknown => (args.length ? args[0] : kwds.get(name));
    switch (funcname) {
      case 'dummy':
        return null;
      case 'track_segment':
        this.segments.push(this.#segmentName(arg('segment_name')));
        return null;
      case 'release_segment':
        return this.#release(this.#segmentName(arg('segment_name')));
      case 'list_segments':
        return [...this.segments];
      case 'number_of_objects':
        return 0;
      case 'debug_info':
        return '';
      case 'shutdown':
        this.unlinkAll();
        return null;
      case 'create':
      case 'accept_connection':
      case 'get_methods':
      case 'incref':
      case 'decref':
        // Public in CPython's Server, but only meaningful for proxy objects,
        // which a SharedMemoryManager registers none of.
        throw new PythonException('KeyError', `${pyRepr(String(args[0] ?? ''))}`);
      default:
        throw new PythonException('AssertionError', `${pyRepr(funcname)} unrecognized`);
    }
  }

  #segmentName(value: unknown): string {
    if (typeof value !== 'string') throw new PythonException('TypeError', 'segment_name must be a str');
    try {
      return checkName(value, 'segment_name');
    } catch (err) {
      throw new PythonException('ValueError', (err as Error).message);
    }
  }

  #release(name: string): null {
    const i = this.segments.indexOf(name);
    if (i < 0) throw new PythonException('ValueError', 'list.remove(x): x not in list');
    this.segments.splice(i, 1);
    try {
      unlinkBlock(name);
    } catch (err) {
      throw new PythonException('FileNotFoundError', `[Errno 2] No such file or directory: '/${name}' (${(err as Error).message})`);
    }
    return null;
  }

  /**
   * Unlinks every tracked block. Unlike CPython's tracker, a block someone
   * else already unlinked does not stop the others from being unlinked.
   * @returns the names that were still there and are now gone
   */
  unlinkAll(): string[] {
    const gone: string[] = [];
    for (const name of this.segments.splice(0)) {
      try {
        unlinkBlock(name);
        gone.push(name);
      } catch {
        // already unlinked elsewhere
      }
    }
    return gone;
  }

  /** Stops accepting, drops open connections. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** Python's repr of a str, enough for messages: single quotes, escapes. */
function pyRepr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
