/**
 * Creator-side tracking, after CPython's resource tracker
 * (`multiprocessing/resource_tracker.py`): a small separate process,
 * `shmbridge-tracker` (`native/tracker.c`), holds the read end of a pipe. We
 * write one line when a block is created and one when it is unlinked; when
 * this process ends, however it ends (exit, crash, SIGKILL), the kernel closes
 * the write end, the tracker reads EOF, unlinks whatever is still registered
 * and says so on stderr.
 *
 * The tracker ignores SIGINT and SIGTERM, but it can still be SIGKILLed (an
 * OOM killer, a `kill -9` of the wrong pid). Then blocks created later would
 * go untracked and the ones it held would leak when we die, silently. So its
 * death is noticed — at once by its exit event in the thread that started
 * it, and by the broken pipe (EPIPE) at the next message in any thread — and
 * a new tracker is started, every live tracked block of this thread is
 * registered with it again, and a warning says so once.
 *
 * Costs, measured in bench/core/tracker.bench.ts: the first tracked create in a process
 * spawns the tracker (a few ms, once); every later create/unlink adds one
 * `write(2)` of a short line. The tracker holds no handle in our event loop,
 * so it never keeps the process alive.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { syscallError, type CodedError } from './errors.js';
import { native, trackerExecutable } from './native.js';

function trackerError(message: string): CodedError {
  return Object.assign(new Error(`${message}; pass { track: false } to create untracked blocks`), {
    code: 'ERR_SHM_TRACKER',
  });
}

/**
 * Names this isolate registered and has not unregistered, with their inodes.
 * Unlinking any other block sends nothing: each message wakes the tracker
 * process (~11 µs per unlink measured here), and an entry another thread
 * registered is harmless once its block is gone, since the tracker only
 * unlinks a name whose inode is still the registered one.
 */
const registered = new Map<string, number>();
/** The tracker pipe this isolate's entries were registered through. */
let registeredWith = -1;
let warned = false;

function registration(name: string, ino: number): string {
  return `R ${ino} ${Buffer.from(name).toString('hex')}\n`;
}

/**
 * Spawns a tracker and makes its pipe the process's, if the process's is
 * still `expected` (-1: none yet; else the pipe of a tracker that died).
 * Returns the pipe in use afterwards, ours or the one another thread set.
 */
function startTracker(expected: number): number {
  // The pipe's fds come from the addon, so they are closed through it too: fs.closeSync of an
  // fd fs did not open warns in a worker thread ("closed but not opened in unmanaged mode").
  const exe = trackerExecutable();
  if (!exe) throw trackerError('shmbridge-tracker is not built (run the package install script)');
  const fds = native.pipe();
  if (typeof fds === 'number') throw syscallError(fds, 'pipe', 'shmbridge-tracker');
  const [readFd, writeFd] = fds;
  let child;
  try {
    // Its own session, so a Ctrl-C to our process group does not reach it;
    // stdout is not inherited so nobody waits on it for our output to end.
    child = spawn(exe, [String(process.pid)], { stdio: [readFd, 'ignore', 'inherit'], detached: true });
    child.on('error', () => {});
    child.unref();
  } finally {
    native.close(readFd);
  }
  if (child.pid === undefined) {
    native.close(writeFd);
    throw trackerError(`could not start ${exe}`);
  }
  const fd = native.trackerFd(writeFd, expected);
  if (fd !== writeFd) {
    native.close(writeFd); // another thread was first
    return fd;
  }
  // Its exit while we live means it was killed: replace it now rather than
  // at the next create, so the blocks it held are covered again.
  child.once('exit', () => {
    if (native.trackerFd() === writeFd) replaceTracker(writeFd, `exited (${child.signalCode ?? child.exitCode})`);
  });
  return fd;
}

/**
 * Starts the tracker if this process has none yet. Called before a tracked
 * block is created, so a failure here leaves nothing behind.
 * @throws `ERR_SHM_TRACKER` if the tracker cannot be started
 */
export function ensureTracker(): void {
  if (native.trackerFd() < 0) startTracker(-1);
  if (registered.size === 0) registeredWith = native.trackerFd();
}

/**
 * The tracker behind pipe `dead` is gone: start another, register this
 * isolate's live blocks with it, warn once. The dead pipe's fd is left open:
 * closing it could let the number be reused by an unrelated file while
 * another thread still writes tracker lines to it.
 */
function replaceTracker(dead: number, why: string): void {
  let fd: number;
  try {
    fd = startTracker(dead);
  } catch (err) {
    process.emitWarning(`shmbridge: the tracker process is gone (${why}) and no new one could be started (${(err as Error).message}); blocks will not be unlinked if this process crashes`, 'ShmbridgeWarning');
    return;
  }
  if (!warned) {
    warned = true;
    process.emitWarning(`shmbridge: the tracker process ${why}; started a new one and registered the ${registered.size} tracked block(s) of this thread with it`, 'ShmbridgeWarning');
  }
  reregister(fd);
}

function reregister(fd: number): void {
  registeredWith = fd;
  if (registered.size === 0) return;
  let lines = '';
  for (const [name, ino] of registered) lines += registration(name, ino);
  write(fd, lines);
}

function write(fd: number, text: string): boolean {
  try {
    writeSync(fd, text);
    return true;
  } catch {
    return false;
  }
}

function send(line: string): void {
  let fd = native.trackerFd();
  if (fd < 0) return;
  // Another thread replaced a dead tracker: register this thread's blocks with the new one first.
  if (fd !== registeredWith) reregister(fd);
  if (write(fd, line)) return;
  replaceTracker(fd, 'is gone (EPIPE)');
  fd = native.trackerFd();
  if (!write(fd, line)) process.emitWarning('shmbridge: the tracker process is gone; blocks will not be unlinked if this process crashes', 'ShmbridgeWarning');
}

/** Registers a block this process created; `ino` guards against a later block of the same name. */
export function register(name: string, ino: number): void {
  registered.set(name, ino);
  send(registration(name, ino));
}

/** Unregisters a block that was unlinked (by whichever object unlinked it). */
export function unregister(name: string): void {
  if (registered.delete(name)) send(`U ${Buffer.from(name).toString('hex')}\n`);
}
