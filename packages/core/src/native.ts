/**
 * The one place that loads the native addon. Every other module reaches the
 * syscalls through {@link native}.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `[size, mode, uid, mtimeMs, ino]`, as fstat reports them. */
export type StatTuple = [size: number, mode: number, uid: number, mtimeMs: number, ino: number];

/**
 * The addon's functions (`native/addon.cc`): one syscall each. Each returns
 * `-errno` (a negative number) on failure instead of throwing.
 */
export interface NativeBinding {
  open(path: string, flags: number, mode: number): number;
  unlink(path: string): number;
  truncate(fd: number, size: number): number;
  reserve(fd: number, size: number): number;
  stat(fd: number): StatTuple | number;
  close(fd: number): number;
  pipe(): [readFd: number, writeFd: number] | number;
  /** The process-wide tracker pipe; with `fd`, sets it if it still is `expected` (default -1: unset). */
  trackerFd(fd?: number, expected?: number): number;
  map(fd: number, length: number, extraFlags: number, detachKey: object): ArrayBuffer | number;
  /** Releases the block's pages; the buffer and its views read zeros from then on (see addon.cc, Unmap). */
  unmap(buffer: ArrayBuffer): number;
  /** Bytes of blocks this isolate has mapped and not closed. */
  mappedBytes(): number;
  /**
   * Address ranges this isolate holds: its mapped blocks, plus closed ones
   * whose range is kept until their ArrayBuffer is collected (addon.cc, Unmap).
   */
  mappedRanges(): number;
  /** Makes V8 feel `bytes` of external memory pressure, without keeping the charge. */
  requestGc(bytes: number): void;
  readonly constants: {
    readonly O_RDONLY: number;
    readonly O_RDWR: number;
    readonly O_CREAT: number;
    readonly O_EXCL: number;
    readonly MAP_POPULATE: number;
    readonly NAME_MAX: number;
  };
}

/** The package's root folder (holds `package.json`, `build/`, `prebuilds/`). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const require = createRequire(import.meta.url);

function load(): NativeBinding {
  try {
    return (require('node-gyp-build') as (dir: string) => NativeBinding)(packageRoot);
  } catch (cause) {
    const err = new Error(
      `@shmbridge/core: the native addon could not be loaded for Node ${process.version} (${process.platform}-${process.arch}).\n` +
        `  ${(cause as Error).message.split('\n')[0]}\n` +
        `Rebuild it where the package is installed: cd ${packageRoot} && node scripts/install.cjs\n` +
        '(needs g++, make and python3; see the README, "Installing").',
      { cause },
    );
    Object.assign(err, { code: 'ERR_SHM_NATIVE' });
    throw err;
  }
}

export const native: NativeBinding = load();

/** Path of the `shmbridge-tracker` executable built beside the addon, if any. */
export function trackerExecutable(): string | undefined {
  const candidates = [
    join(packageRoot, 'build', 'Release', 'shmbridge-tracker'),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'shmbridge-tracker'),
  ];
  return candidates.find((p) => existsSync(p));
}
