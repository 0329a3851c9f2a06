/**
 * Block names: checking the ones users give, generating the ones they don't.
 * Names are handled without the leading slash everywhere except at the
 * syscall, exactly as CPython's `SharedMemory.name` reports them.
 */
import { randomFillSync } from 'node:crypto';
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';
import { native } from './native.js';

/** Prefix of generated names, as CPython's `_SHM_NAME_PREFIX` (`/psm_`). */
export const NAME_PREFIX = 'psm_';

/**
 * Longest name in bytes (UTF-8, without the slash): 255 on Linux (NAME_MAX
 * of tmpfs), 30 on macOS (PSHMNAMLEN 31 counts the slash).
 */
export const MAX_NAME_BYTES = process.platform === 'darwin' ? 30 : native.constants.NAME_MAX;

/**
 * Checks a block name before any syscall and returns it.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if not a string; `ERR_INVALID_ARG_VALUE`
 *   if empty, `.`/`..`, containing `/` or NUL, or with a lone surrogate.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` if longer than {@link MAX_NAME_BYTES}.
 */
export function checkName(name: unknown, argName = 'name'): string {
  if (typeof name !== 'string') throw invalidArgType(argName, 'of type string', name);
  if (name === '') throw invalidArgValue(argName, 'must not be empty', name);
  if (name.includes('/')) throw invalidArgValue(argName, "must not contain '/' (give the name without the leading slash)", name);
  if (name.includes('\0')) throw invalidArgValue(argName, 'must not contain NUL characters', name);
  if (name === '.' || name === '..') throw invalidArgValue(argName, "must not be '.' or '..'", name);
  // A lone surrogate has no UTF-8 form: it would be sent as U+FFFD and open another block.
  if (!(name as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidArgValue(argName, 'must be well-formed Unicode (it has a lone surrogate, which has no UTF-8 form)', name);
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_NAME_BYTES) throw outOfRange(`${argName}.length`, `at most ${MAX_NAME_BYTES} bytes on ${process.platform}`, bytes);
  return name;
}

// Random bytes for names, drawn 1,024 names at a time: one randomBytes call
// costs ~6 µs here, a fifth of a whole create. Names need to be unique, not
// secret (a collision is retried: O_EXCL), so a pooled CSPRNG draw is enough.
const pool = Buffer.allocUnsafeSlow(4096);
let poolAt = pool.length;

/**
 * A fresh name like CPython's `_make_filename()`: `psm_` and 8 lowercase hex
 * digits (4 random bytes), 12 characters, short enough for every platform.
 */
export function generateName(): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 4;
  return NAME_PREFIX + pool.toString('hex', poolAt - 4, poolAt);
}
