/**
 * Creator-side tracking, after CPython's resource tracker
 * (`multiprocessing/resource_tracker.py`): a small separate process,
 * `shmbridge-tracker` (`native/tracker.c`), holds the read end of a pipe. We
 * write one line when a block is created and one when it is unlinked; when
 * this process ends, however it ends (exit, crash, SIGKILL), the kernel closes
 * the write end, the tracker reads EOF, unlinks whatever is still registered
 * and says so on stderr.
 *
 * Costs, measured in bench/core/tracker.bench.ts: the first tracked create in a process
 * spawns the tracker (a few ms, once); every later create/unlink adds one
 * `write(2)` of a short line. The tracker holds no handle in our event loop,
 * so it never keeps the process alive.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { syscallError, type CodedError } from './errors.js';
import { native, trackerExecutable } from './native.js';

function trackerError(message: string): CodedError {
  return Object.assign(new Error(`${message}; pass { track: false } to create untracked blocks`), {
    code: 'ERR_SHM_TRACKER',
  });
}

function startTracker(): number {
  const exe = trackerExecutable();
  if (!exe) throw trackerError('shmbridge-tracker is not built (run the package install script)');
  const fds = native.pipe();
  if (typeof fds === 'number') throw syscallError(fds, 'pipe', 'shmbridge-tracker');
  const [readFd, writeFd] = fds;
  let pid: number | undefined;
  try {
    // Its own session, so a Ctrl-C to our process group does not reach it;
    // stdout is not inherited so nobody waits on it for our output to end.
    const child = spawn(exe, [String(process.pid)], { stdio: [readFd, 'ignore', 'inherit'], detached: true });
    child.on('error', () => {});
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(readFd);
  }
  if (pid === undefined) {
    closeSync(writeFd);
    throw trackerError(`could not start ${exe}`);
  }
  const fd = native.trackerFd(writeFd);
  if (fd !== writeFd) closeSync(writeFd); // another thread started one first
  return fd;
}

/**
 * Starts the tracker if this process has none yet. Called before a tracked
 * block is created, so a failure here leaves nothing behind.
 * @throws `ERR_SHM_TRACKER` if the tracker cannot be started
 */
export function ensureTracker(): void {
  if (native.trackerFd() < 0) startTracker();
}

function send(line: string): void {
  const fd = native.trackerFd();
  if (fd < 0) return;
  try {
    writeSync(fd, line);
  } catch (err) {
    // The tracker is gone (EPIPE): blocks still work, only crash cleanup is lost.
    process.emitWarning(`shmbridge: the tracker process is gone (${(err as Error).message}); blocks will not be unlinked if this process crashes`, 'ShmbridgeWarning');
  }
}

/**
 * Names this isolate registered and has not unregistered. Unlinking any other
 * block sends nothing: each message wakes the tracker process (~11 µs per
 * unlink measured here), and an entry another thread registered is harmless
 * once its block is gone, since the tracker only unlinks a name whose inode
 * is still the registered one.
 */
const registered = new Set<string>();

/** Registers a block this process created; `ino` guards against a later block of the same name. */
export function register(name: string, ino: number): void {
  registered.add(name);
  send(`R ${ino} ${Buffer.from(name).toString('hex')}\n`);
}

/** Unregisters a block that was unlinked (by whichever object unlinked it). */
export function unregister(name: string): void {
  if (registered.delete(name)) send(`U ${Buffer.from(name).toString('hex')}\n`);
}
