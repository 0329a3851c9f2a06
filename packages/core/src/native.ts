/**
 * The one place that loads the native addon. Every other module reaches the
 * syscalls through {@link native}.
 */
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
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
  /** {@link reserve} on libuv's thread pool; the fd must stay open until it settles. `-ENOMEM` if it cannot be queued. */
  reserveAsync(fd: number, size: number): Promise<number> | number;
  /**
   * Maps a mapping's pages in, writable, on the thread pool:
   * `madvise(MADV_POPULATE_WRITE)` (Linux 5.14+; `-EINVAL` before), or with
   * `touch` one no-op atomic write per page. `-ENOMEM` if it cannot be queued.
   */
  populateAsync(buffer: ArrayBuffer, touch: boolean): Promise<number> | number;
  stat(fd: number): StatTuple | number;
  close(fd: number): number;
  pipe(): [readFd: number, writeFd: number] | number;
  /** The process-wide tracker pipe; with `fd`, sets it if it still is `expected` (default -1: unset). */
  trackerFd(fd?: number, expected?: number): number;
  map(fd: number, length: number, extraFlags: number, detachKey: object): ArrayBuffer | number;
  /**
   * Releases the block's pages; the buffer and its views read zeros from then
   * on (see addon.cc, Unmap). A buffer never `exposed` (no view handed out) is
   * unmapped outright instead.
   */
  unmap(buffer: ArrayBuffer, exposed: boolean, detachKey: object): number;
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

interface NodeGypBuild {
  (dir: string): unknown;
  /** The binary node-gyp-build picks: build/Release, else the prebuild matching this Node's ABI. */
  resolve(dir: string): string;
}

/** The addon, and the file it was loaded from (the tracker built with it sits beside it). */
function load(): { binding: NativeBinding; file: string } {
  try {
    const file = (require('node-gyp-build') as NodeGypBuild).resolve(packageRoot);
    return { binding: require(file) as NativeBinding, file };
  } catch (cause) {
    const err = new Error(
      `@shmbridge/core: the native addon could not be loaded for Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}).\n` +
        `  ${(cause as Error).message.split('\n')[0]}\n` +
        `Rebuild it where the package is installed: cd ${packageRoot} && node scripts/install.cjs\n` +
        '(needs g++, make and python3; see the README, "Installing").',
      { cause },
    );
    Object.assign(err, { code: 'ERR_SHM_NATIVE' });
    throw err;
  }
}

const loaded = load();

export const native: NativeBinding = loaded.binding;

/**
 * Path of the `shmbridge-tracker` executable built with the loaded addon
 * (`build/Release/` or `prebuilds/<platform>-<arch>/`), if it is there.
 */
export function trackerExecutable(): string | undefined {
  const exe = join(dirname(loaded.file), 'shmbridge-tracker');
  if (!existsSync(exe)) return undefined;
  try {
    accessSync(exe, constants.X_OK);
  } catch {
    // pnpm pack stores every file but a package's bins as 0644, and installs
    // that skip scripts/install.cjs (pnpm's default for dependencies,
    // --ignore-scripts) leave it so. If this fails, spawning says EACCES.
    try {
      chmodSync(exe, 0o755);
    } catch {}
  }
  return exe;
}
