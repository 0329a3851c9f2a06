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
import { SharedMemory, connectionError, invalidArgType, managerStateError as managerState, parseArg } from '@shmbridge/core';
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
 * CPython or another Node process started. Python's forms work as they are:
 * `smm = new SharedMemoryManager(); await smm.start()` and
 * `await new SharedMemoryManager({ address, authkey }).connect()`.
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
  /** The authkey; give it to Python's `SharedMemoryManager(address, authkey)`. */
  readonly authkey: Buffer;
  #address: Address | undefined;
  /** Whether the caller gave the authkey (a generated one can only serve a manager we start). */
  readonly #authkeyGiven: boolean;
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #shutdown = false;
  #connected = false;
  /** With a manager this object started (shmbridge's own server): one authenticated connection, reused. */
  #kept: Promise<Connection> | undefined;
  /** Requests written on the kept connection and not yet answered, oldest first. */
  #pending: Array<{ resolve: (value: unknown) => void; reject: (err: Error) => void }> = [];

  /**
   * A manager, as Python's `SharedMemoryManager(address=None, authkey=None)`:
   * then {@link start} runs one (at `address`, or a socket in a new 0700
   * directory), or {@link connect} reaches one that is running (`address`
   * and `authkey` needed).
   * @param options `address`, `authkey` (default when starting: 32 random bytes)
   * @throws {TypeError|RangeError} for bad options
   * @example
   * ```ts
   * const smm = new SharedMemoryManager();   // Python: smm = SharedMemoryManager()
   * await smm.start();                       //         smm.start()
   * const sl = await smm.ShareableList([1, 2]);
   * await smm.shutdown();
   * ```
   */
  constructor(options?: ManagerOptions) {
    const o = parseArg(optionsSchema, options, 'options') ?? {};
    this.#address = o.address as Address | undefined;
    this.#authkeyGiven = o.authkey !== undefined;
    this.authkey = o.authkey === undefined ? randomBytes(32) : Buffer.from(o.authkey);
  }

  /**
   * Where the manager listens (a socket path, or `[host, port]`), once known:
   * given to the constructor, or chosen by {@link start}.
   * @throws `ERR_SHM_MANAGER_STATE` before `start()` when no address was given
   */
  get address(): Address {
    if (this.#address === undefined) throw managerState('has no address yet: call start() (or pass { address } to connect to a running manager)');
    return this.#address;
  }

  /**
   * Starts a manager in its own process and returns a client for it (the
   * same as `new SharedMemoryManager(options).start()`). If this process
   * dies — even by SIGKILL — the manager unlinks every block it tracks and
   * exits.
   * @example
   * ```ts
   * const smm = await SharedMemoryManager.start({ address: ['127.0.0.1', 0], authkey: 'secret' });
   * smm.address; // ['127.0.0.1', 43517]
   * await smm.shutdown();
   * ```
   */
  static async start(options?: ManagerOptions): Promise<SharedMemoryManager> {
    return new SharedMemoryManager(options).start();
  }

  /**
   * Runs the manager process for this object (Python's `smm.start()`) and
   * resolves once it listens.
   * @throws `ERR_SHM_MANAGER_STATE` if this object already started a manager or connected to one
   */
  async start(): Promise<this> {
    if (this.#process || this.#connected || this.#shutdown) throw managerState(this.#shutdown ? 'was shut down' : 'has already started or connected to a manager');
    const authkey = this.authkey;
    const child = spawn(process.execPath, [serverScript()], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.#process = child;
    child.stdin!.write(`${JSON.stringify({ address: this.#address ?? null, authkey: authkey.toString('hex') })}\n`);
    let address: Address;
    try {
      address = await new Promise<Address>((resolve, reject) => {
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
    } catch (err) {
      this.#process = undefined;
      throw err;
    }
    // The manager must not keep this process alive; its stdin stays open as the lifeline.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    this.#address = address;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return this;
  }

  /** Whether this object started the manager process. */
  get started(): boolean {
    return this.#process !== undefined;
  }

  async #open(): Promise<Connection> {
    if (this.#address === undefined) {
      throw invalidArgType('options.address', 'a socket path or [host, port] to connect to (or call start() to run a manager)', undefined);
    }
    if (!this.#authkeyGiven && !this.#process) {
      throw invalidArgType('options.authkey', 'the authkey of the manager to connect to (a string or Uint8Array)', undefined);
    }
    const conn = await Connection.connect(this.#address);
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
    return SharedMemoryManager.#result(await conn.recvBytes(MAX_REPLY_BYTES));
  }

  static #result(frame: Buffer): unknown {
    const [kind, value] = decodeReply(frame);
    if (kind === '#RETURN') return value;
    throw remoteError(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /**
   * One request. To a manager of unknown make: on a fresh connection, as
   * CPython's clients do (CPython's server serves one request per
   * connection). To the manager this object started: on one kept connection
   * (see {@link #post}).
   */
  async #call(funcname: string, args: readonly unknown[] = []): Promise<unknown> {
    if (this.started) return (await this.#post(funcname, args)).reply;
    const conn = await this.#open();
    try {
      return await SharedMemoryManager.#exchange(conn, funcname, args);
    } finally {
      conn.close();
    }
  }

  /**
   * Writes one request on the kept connection now and returns (wrapped, so
   * it is not awaited here) the promise of its reply. Requests are
   * pipelined: written in call order, answered in that order by the
   * manager, without waiting for the previous reply — a round trip to the
   * manager process costs more than everything else in `smm.SharedMemory()`.
   */
  async #post(funcname: string, args: readonly unknown[]): Promise<{ reply: Promise<unknown> }> {
    let conn = await this.#keptConnection();
    if (conn.closed) {
      // It closed while idle (the manager restarted or went away): one fresh try.
      this.#kept = undefined;
      conn = await this.#keptConnection();
    }
    conn.sendBytes(encodeRequest(funcname, args));
    const reply = new Promise<unknown>((resolve, reject) => this.#pending.push({ resolve, reject }));
    if (this.#pending.length === 1) void this.#readReplies(conn);
    return { reply };
  }

  #keptConnection(): Promise<Connection> {
    return (this.#kept ??= this.#open().catch((err: unknown) => {
      this.#kept = undefined;
      throw err;
    }));
  }

  /** Settles pending requests with the replies, in order, while any are pending. */
  async #readReplies(conn: Connection): Promise<void> {
    // Held only while requests are in flight: an idle manager connection never keeps this process alive.
    conn.hold(true);
    while (this.#pending.length) {
      let frame: Buffer;
      try {
        frame = await conn.recvBytes(MAX_REPLY_BYTES);
      } catch (err) {
        // The manager is gone: every request in flight fails; the next one reconnects.
        this.#kept = undefined;
        for (const waiter of this.#pending.splice(0)) waiter.reject(err as Error);
        break;
      }
      const waiter = this.#pending.shift()!;
      try {
        waiter.resolve(SharedMemoryManager.#result(frame));
      } catch (err) {
        waiter.reject(err as Error);
      }
    }
    conn.hold(false);
  }

  /**
   * Hands a block this process just created to the manager. The block stays
   * tracked by this process (unlinked if it dies) until the manager has
   * confirmed it tracks it; to the manager this object started, the call
   * returns once the request is written, and the confirmation untracks it
   * when it arrives. A manager that refuses leaves the block with this
   * process, with a warning.
   */
  async #handOver(shm: SharedMemory): Promise<void> {
    if (!this.started) {
      try {
        await this.#call('track_segment', [shm.name]);
      } catch (err) {
        shm.close().unlink();
        throw err;
      }
      shm.untrack();
      return;
    }
    let sent: { reply: Promise<unknown> };
    try {
      sent = await this.#post('track_segment', [shm.name]);
    } catch (err) {
      shm.close().unlink();
      throw err;
    }
    sent.reply.then(
      () => shm.untrack(), // the manager owns it now
      (err: Error) => process.emitWarning(`shmbridge: the manager did not take block '${shm.name}' (${err.message}); this process keeps tracking it`, 'ShmbridgeWarning'),
    );
  }

  /**
   * Checks the manager is there and the authkey is right (Python's `connect()`).
   * @throws `ERR_SHM_AUTH` for a wrong authkey; a connection error if nobody listens
   */
  async connect(): Promise<this> {
    await this.#call('dummy');
    this.#connected = true;
    return this;
  }

  /**
   * A new block of `size` bytes that the manager tracks and unlinks at its shutdown
   * (Python's `smm.SharedMemory(size)`): created here, then handed to the manager.
   */
  async SharedMemory(size: number): Promise<SharedMemory> {
    const shm = SharedMemory.create(size);
    await this.#handOver(shm);
    return shm;
  }

  /** A new ShareableList whose block the manager tracks (Python's `smm.ShareableList(seq)`). */
  async ShareableList(sequence: Iterable<PyInput>, options?: Omit<ShareableListOptions, 'name' | 'track'>): Promise<ShareableList> {
    const sl = new ShareableList(sequence, options);
    await this.#handOver(sl.shm);
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
      const kept = this.#kept;
      this.#kept = undefined;
      if (kept) (await kept.catch(() => undefined))?.destroy();
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
