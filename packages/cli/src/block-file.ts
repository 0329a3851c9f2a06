/**
 * A block opened for inspection with read(2), never through a mapping.
 *
 * Reading a page a block has not allocated through a mapping makes tmpfs
 * allocate it: on a full /dev/shm that is a SIGBUS (and any local user can
 * fill it, the directory is world-writable), and otherwise it changes the
 * block (its memory). CPython's create leaves blocks sparse like that.
 * `pread` of such a page returns zeros and allocates nothing, so `ls` and
 * `show` read what they need, in bounded pieces, into memory of their own.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { constants as os } from 'node:os';
import { join } from 'node:path';
import { checkName, syscallError } from '@shmbridge/core';

export const SHM_DIR = '/dev/shm';

/** The most `show` copies of a block to decode it whole (a list, or an Arrow stream). */
export const WHOLE_LIMIT = 256 << 20;

export class BlockFile {
  readonly size: number;
  readonly #fd: number;

  /**
   * @throws {TypeError|RangeError} for an invalid name
   * @throws {SyscallError} `ENOENT`, `EACCES`, or `ELOOP` for a symlink (never followed)
   */
  constructor(readonly name: string) {
    checkName(name);
    try {
      this.#fd = openSync(join(SHM_DIR, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw syscallError(e.errno ?? -1, 'open', name);
    }
    const st = fstatSync(this.#fd);
    if (!st.isFile()) {
      closeSync(this.#fd);
      throw syscallError(-os.errno.EINVAL, 'open', name);
    }
    this.size = st.size;
  }

  /** Up to `length` bytes from `position` (fewer at the end of the block), copied. */
  read(position: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - position));
    const out = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.#fd, out, done, n - done, position + done);
      if (got === 0) break; // truncated by another process while we read
      done += got;
    }
    return done === n ? out : out.subarray(0, done);
  }

  /** The whole block, or `undefined` when it is larger than {@link WHOLE_LIMIT}. */
  readAll(): Uint8Array | undefined {
    return this.size <= WHOLE_LIMIT ? this.read(0, this.size) : undefined;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Opens `name`, runs `use`, closes. */
export function withBlockFile<T>(name: string, use: (f: BlockFile) => T): T {
  const f = new BlockFile(name);
  try {
    return use(f);
  } finally {
    f.close();
  }
}
