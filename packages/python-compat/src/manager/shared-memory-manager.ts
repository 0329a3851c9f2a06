/**
 * `SharedMemoryManager`: CPython's `multiprocessing.managers.SharedMemoryManager`
 * for Node — one owner that hands out blocks and unlinks them all at shutdown,
 * speaking CPython's own protocol, so a Node service and Python workers share
 * one manager whichever side started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SharedMemory, connectionError, invalidArgType, parseArg } from '@shmbridge/core';
import type { PyInput } from '../py.js';
import { ShareableList, type ShareableListOptions } from '../shareable-list/shareable-list.js';
import { addressSchema } from './address.js';
import { Connection, answerChallenge, deliverChallenge, type Address } from './connection.js';
import { decodeReply, encodeRequest } from './protocol.js';

/** Where and how to reach a manager. */
export interface ManagerOptions {
  /** A Unix socket path or TCP `[host, port]` (port 0: any free port, when starting). Default when starting: a socket in a new 0700 directory. */
  address?: Address;
  /** The shared secret both sides prove they know (HMAC challenge). Default when starting: 32 random bytes. */
  authkey?: Uint8Array | string;
}

/** A Python exception a manager sent back (`RemoteError` in CPython). */
export interface RemoteError extends Error {
  code: 'ERR_SHM_REMOTE';
  /** The Python traceback text, or the exception's type and arguments. */
  remote: string;
}

const optionsSchema = z
  .object({ address: addressSchema.optional(), authkey: z.union([z.string().min(1), z.instanceof(Uint8Array)]).optional() })
  .strict()
  .optional();

/** Replies are small; a larger frame means something is wrong. */
const MAX_REPLY_BYTES = 64 << 20;
const SHUTDOWN_TIMEOUT_MS = 5000;

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

function serverScript(): string {
  // dist/manager/ when running the build; src/manager/ under a TS test runner, which uses the build's script.
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', 'dist', 'manager', 'server-main.js');
}

function remoteError(text: string): RemoteError {
  const err = connectionError(`the manager raised ${text.trim().split('\n').pop()}`) as unknown as RemoteError;
  err.code = 'ERR_SHM_REMOTE';
  err.remote = text;
  err.name = 'RemoteError';
  return err;
}

/**
 * A SharedMemoryManager: start one (its own process), or connect to one that
 * CPython or another Node process started.
 *
 * @example
 * ```ts
 * import { SharedMemoryManager } from '@shmbridge/python-compat';
 * await using smm = await SharedMemoryManager.start();
 * const raw = await smm.SharedMemory(128);
 * const sl = await smm.ShareableList([0, 1, 2]);
 * // Python: SharedMemoryManager(address=smm.address, authkey=smm.authkey).connect()
 * await smm.shutdown();   // unlinks every block made through it
 * ```
 */
export class SharedMemoryManager {
  /** Where the manager listens (a socket path, or `[host, port]`). */
  address: Address;
  /** The authkey; give it to Python's `SharedMemoryManager(address, authkey)`. */
  readonly authkey: Buffer;
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #shutdown = false;
  /** With a manager this object started (shmbridge's own server): one authenticated connection, reused. */
  #kept: Connection | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * A manager to connect to (Python's `SharedMemoryManager(address, authkey)`);
   * call {@link connect}. To run one, use {@link SharedMemoryManager.start}.
   * @throws {TypeError|RangeError} for bad options
   */
  constructor(options: ManagerOptions & { address: Address; authkey: Uint8Array | string }) {
    const o = parseArg(optionsSchema, options, 'options')!;
    if (o.address === undefined) throw invalidArgType('options.address', 'a socket path or [host, port] (to run a manager, use SharedMemoryManager.start())', undefined);
    if (o.authkey === undefined) throw invalidArgType('options.authkey', 'a string or Uint8Array', undefined);
    this.address = o.address as Address;
    this.authkey = Buffer.from(o.authkey);
  }

  /**
   * Starts a manager in its own process and returns a client for it. If this
   * process dies — even by SIGKILL — the manager unlinks every block it
   * tracks and exits.
   * @example
   * ```ts
   * const smm = await SharedMemoryManager.start({ address: ['127.0.0.1', 0], authkey: 'secret' });
   * smm.address; // ['127.0.0.1', 43517]
   * await smm.shutdown();
   * ```
   */
  static async start(options?: ManagerOptions): Promise<SharedMemoryManager> {
    const o = parseArg(optionsSchema, options, 'options') ?? {};
    const authkey = o.authkey === undefined ? randomBytes(32) : Buffer.from(o.authkey);
    const child = spawn(process.execPath, [serverScript()], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    child.stdin!.write(`${JSON.stringify({ address: o.address ?? null, authkey: authkey.toString('hex') })}\n`);
    const address = await new Promise<Address>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { address: Address }).address);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(connectionError(`the manager process exited (${code}) before it listened`)));
    });
    // The manager must not keep this process alive; its stdin stays open as the lifeline.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    const smm = new SharedMemoryManager({ address, authkey });
    smm.#process = child;
    smm.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return smm;
  }

  /** Whether this object started the manager process. */
  get started(): boolean {
    return this.#process !== undefined;
  }

  async #open(): Promise<Connection> {
    const conn = await Connection.connect(this.address);
    try {
      await answerChallenge(conn, this.authkey);
      await deliverChallenge(conn, this.authkey);
    } catch (err) {
      conn.destroy();
      throw err;
    }
    return conn;
  }

  static async #exchange(conn: Connection, funcname: string, args: readonly unknown[]): Promise<unknown> {
    conn.sendBytes(encodeRequest(funcname, args));
    const [kind, value] = decodeReply(await conn.recvBytes(MAX_REPLY_BYTES));
    if (kind === '#RETURN') return value;
    throw remoteError(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /**
   * One request. To a manager of unknown make: on a fresh connection, as
   * CPython's clients do (CPython's server serves one request per
   * connection). To the manager this object started: on one kept connection,
   * requests queued in order.
   */
  #call(funcname: string, args: readonly unknown[] = []): Promise<unknown> {
    if (!this.started) {
      return this.#open().then(async (conn) => {
        try {
          return await SharedMemoryManager.#exchange(conn, funcname, args);
        } finally {
          conn.close();
        }
      });
    }
    const run = async (): Promise<unknown> => {
      if (!this.#kept || this.#kept.closed) this.#kept = await this.#open();
      const conn = this.#kept;
      // Held only while a request is in flight: an idle manager connection never keeps this process alive.
      conn.hold(true);
      try {
        return await SharedMemoryManager.#exchange(conn, funcname, args);
      } catch (err) {
        if (conn.closed) this.#kept = undefined;
        throw err;
      } finally {
        conn.hold(false);
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  /**
   * Checks the manager is there and the authkey is right (Python's `connect()`).
   * @throws `ERR_SHM_AUTH` for a wrong authkey; a connection error if nobody listens
   */
  async connect(): Promise<this> {
    await this.#call('dummy');
    return this;
  }

  /**
   * A new block of `size` bytes that the manager tracks and unlinks at its shutdown
   * (Python's `smm.SharedMemory(size)`): created here, then handed to the manager.
   */
  async SharedMemory(size: number): Promise<SharedMemory> {
    const shm = SharedMemory.create(size);
    try {
      await this.#call('track_segment', [shm.name]);
    } catch (err) {
      shm.close().unlink();
      throw err;
    }
    return shm.untrack(); // the manager owns it now
  }

  /** A new ShareableList whose block the manager tracks (Python's `smm.ShareableList(seq)`). */
  async ShareableList(sequence: Iterable<PyInput>, options?: Omit<ShareableListOptions, 'name' | 'track'>): Promise<ShareableList> {
    const sl = new ShareableList(sequence, options);
    try {
      await this.#call('track_segment', [sl.shm.name]);
    } catch (err) {
      sl.shm.close().unlink();
      throw err;
    }
    sl.shm.untrack();
    return sl;
  }

  /** Names of the blocks the manager tracks (CPython's `list_segments`). */
  async listSegments(): Promise<string[]> {
    return (await this.#call('list_segments')) as string[];
  }

  /** Unlinks one tracked block now and stops tracking it (CPython's `release_segment`). */
  async releaseSegment(name: string): Promise<void> {
    await this.#call('release_segment', [name]);
  }

  /**
   * Unlinks every block made through the manager and stops it (its process
   * too, if this object started it). Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    try {
      await this.#call('shutdown');
    } finally {
      this.#kept?.destroy();
      this.#kept = undefined;
      const child = this.#process;
      if (child && this.#exited) {
        const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
        await this.#exited;
        clearTimeout(timer);
      }
    }
  }

  /** `await using smm = await SharedMemoryManager.start()`: shuts down a manager this object started. */
  async [asyncDispose](): Promise<void> {
    if (this.started) await this.shutdown();
  }
}
