/**
 * Manager addresses, as `multiprocessing.connection` has them: a Unix socket
 * path, or a TCP `[host, port]`. Without one, a socket in a new private
 * directory (mode 0700), like CPython's `arbitrary_address('AF_UNIX')` inside
 * `util.get_temp_dir()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Address } from './connection.js';

/** zod schema of an address option: a non-empty path, or `[host, port]` with port 0–65535 (0: any free port). */
export const addressSchema = z.union([
  z.string().min(1),
  z.tuple([z.string().min(1), z.number().int().min(0).max(65535)]),
]);

/** A fresh Unix socket path in a new 0700 directory; `release()` removes the directory. */
export function privateSocket(): { path: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'shmbridge-'));
  const path = join(dir, `listener-${randomBytes(4).toString('hex')}`);
  return { path, release: () => rmSync(dirname(path), { recursive: true, force: true }) };
}

/** `[host, port]` or the path, for messages. */
export function formatAddress(address: Address): string {
  return typeof address === 'string' ? address : `${address[0]}:${address[1]}`;
}
