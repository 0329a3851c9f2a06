/**
 * Pickles of SharedMemory and ShareableList, as CPython's own `__reduce__`
 * makes them (multiprocessing/shared_memory.py): `SharedMemory(name, False,
 * size)` and `functools.partial(ShareableList, name=name)()`. `toPickle`
 * writes the bytes `pickle.dumps` would; `fromPickle` reads CPython's (any
 * protocol 2–5) and attaches — and refuses every other pickle before any
 * side effect.
 */
import { SharedMemory, checkName, pickleRejected } from '@shmbridge/core';
import { py, PyTuple } from '../py.js';
import { ShareableList } from '../shareable-list/shareable-list.js';
import { dumps, loads, PyCall, PyGlobal } from '../pickle/index.js';

const MODULE = 'multiprocessing.shared_memory';
const ALLOWED = [`${MODULE}.SharedMemory`, `${MODULE}.ShareableList`, 'functools.partial', 'shmbridge._attach.attach'];

/**
 * Bytes that CPython's `pickle.loads` turns into an attached
 * `SharedMemory(name, create=False, size)` or `ShareableList(name=...)` —
 * exactly what `pickle.dumps` of the same object writes (protocol 4).
 *
 * CPython before 3.13 registers a block it unpickles with its resource tracker
 * and unlinks it when that process exits (bpo-39959); attach with the
 * shmbridge Python helper (`shmbridge.attach(name)`) where that matters.
 * @example
 * ```ts
 * const shm = SharedMemory.create(64);
 * const bytes = toPickle(shm); // Python: pickle.loads(bytes) -> SharedMemory('psm_…', size=64)
 * shm.close().unlink();
 * ```
 */
export function toPickle(obj: SharedMemory | ShareableList): Buffer {
  if (obj instanceof SharedMemory) {
    return dumps(new PyCall(new PyGlobal(MODULE, 'SharedMemory'), py.tuple(obj.name, false, obj.size)));
  }
  if (obj instanceof ShareableList) {
    const cls = new PyGlobal(MODULE, 'ShareableList');
    const partial = new PyCall(new PyGlobal('functools', 'partial'), py.tuple(cls));
    partial.state = py.tuple(cls, py.tuple(), new Map([['name', obj.shm.name]]), null);
    return dumps(new PyCall(partial, py.tuple()));
  }
  throw pickleRejected('toPickle takes a SharedMemory or a ShareableList');
}

function nameArg(value: unknown, where: string): string {
  if (typeof value !== 'string') throw pickleRejected(`${where}: the block name is not a str`);
  return checkName(value, where);
}

/**
 * Attaches to the SharedMemory or ShareableList a CPython pickle describes.
 * Only those two shapes (and the shmbridge helper's `attach(name)`) are
 * accepted; any other global, any other call, a pickle that would *create* a
 * block: refused with `ERR_PICKLE_REJECTED`, before any syscall.
 * @throws `ERR_PICKLE_REJECTED`, `ERR_PICKLE_INVALID`; `ENOENT` if the block is gone
 */
export function fromPickle(bytes: Uint8Array): SharedMemory | ShareableList {
  const v = loads(bytes, { globals: ALLOWED });
  if (!(v instanceof PyCall) || v.state !== undefined || v.kwargs) throw pickleRejected('not a pickle of a SharedMemory or ShareableList');
  const { func, args } = v;
  if (func instanceof PyGlobal && func.qualified === `${MODULE}.SharedMemory`) {
    const [name, create = false, size] = args.items;
    if (args.items.length > 3 || create !== false) throw pickleRejected('this SharedMemory pickle would create a block; only attaching is allowed');
    if (size !== undefined && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) throw pickleRejected('SharedMemory size is not an int');
    return SharedMemory.attach(nameArg(name, 'SharedMemory name'));
  }
  if (func instanceof PyGlobal && func.qualified === 'shmbridge._attach.attach' && args.items.length === 1) {
    return SharedMemory.attach(nameArg(args.items[0], 'attach name'));
  }
  if (func instanceof PyCall && args.items.length === 0 && func.func instanceof PyGlobal && func.func.qualified === 'functools.partial') {
    // partial.__setstate__ state: (func, args, keywords, __dict__)
    const state = func.state;
    if (state instanceof PyTuple && state.items.length === 4) {
      const [cls, pargs, kw, dict] = state.items;
      if (cls instanceof PyGlobal && cls.qualified === `${MODULE}.ShareableList` && pargs instanceof PyTuple && pargs.items.length === 0 &&
          kw instanceof Map && kw.size === 1 && kw.has('name') && (dict === null || (dict instanceof Map && dict.size === 0))) {
        return ShareableList.attach(nameArg(kw.get('name'), 'ShareableList name'));
      }
    }
  }
  throw pickleRejected('not a pickle of a SharedMemory or ShareableList');
}
