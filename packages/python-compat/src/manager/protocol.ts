/**
 * The messages of `multiprocessing.managers` (managers.py): a request is a
 * pickled `(ident, funcname, args, kwds)`; a reply is `('#RETURN', value)`,
 * `('#TRACEBACK', text)` or `('#ERROR', exception)`. Requests are decoded with
 * no globals allowed — a SharedMemoryManager client never sends any.
 */
import { pickleRejected } from '@shmbridge/core';
import { dumps, loads, PyCall, PyGlobal } from '../pickle/index.js';
import { py, PyTuple } from '../py.js';

export interface Request {
  ident: unknown;
  funcname: string;
  args: readonly unknown[];
  kwds: ReadonlyMap<unknown, unknown>;
}

export type Reply = readonly ['#RETURN', unknown] | readonly ['#TRACEBACK', string] | readonly ['#ERROR', unknown];

/** Decodes a request; anything but the 4-tuple CPython sends is refused. */
export function decodeRequest(frame: Uint8Array): Request {
  const v = loads(frame);
  if (!(v instanceof PyTuple) || v.items.length !== 4) throw pickleRejected('a request is a 4-tuple (ident, funcname, args, kwds)');
  const [ident, funcname, args, kwds] = v.items;
  if (typeof funcname !== 'string') throw pickleRejected('request funcname is not a str');
  if (!(args instanceof PyTuple)) throw pickleRejected('request args are not a tuple');
  if (!(kwds instanceof Map)) throw pickleRejected('request kwds are not a dict');
  return { ident, funcname, args: args.items, kwds };
}

/** `c.send((None, funcname, args, {}))`, as `managers.dispatch` sends it. */
export function encodeRequest(funcname: string, args: readonly unknown[] = []): Buffer {
  return dumps(py.tuple(null, funcname, new PyTuple(args), new Map()));
}

export function encodeReply(reply: Reply): Buffer {
  return dumps(py.tuple(reply[0], reply[1]));
}

/** Built-in exception classes a CPython server may send in `#ERROR` replies: read, never instantiated. */
const EXCEPTIONS = ['KeyError', 'ValueError', 'TypeError', 'AttributeError', 'RuntimeError', 'OSError', 'FileNotFoundError', 'FileExistsError', 'PermissionError', 'AssertionError', 'NameError', 'IndexError', 'Exception']
  .map((n) => `builtins.${n}`)
  .concat(['multiprocessing.managers.RemoteError']);

/** Decodes a reply; `#ERROR` exceptions come back as `{ type, args }`. */
export function decodeReply(frame: Uint8Array): Reply {
  const v = loads(frame, { globals: EXCEPTIONS });
  if (!(v instanceof PyTuple) || v.items.length !== 2 || typeof v.items[0] !== 'string') throw pickleRejected('a reply is a 2-tuple (kind, value)');
  const [kind, value] = v.items as [string, unknown];
  if (kind === '#RETURN') return [kind, value];
  if (kind === '#TRACEBACK' && typeof value === 'string') return [kind, value];
  if (kind === '#ERROR') {
    if (value instanceof PyCall && value.func instanceof PyGlobal) return [kind, { type: value.func.name, args: value.args.items }];
    return [kind, value];
  }
  throw pickleRejected(`unrecognized reply kind ${JSON.stringify(kind)}`);
}

/**
 * The text CPython's `format_exc()` would send for an exception raised while
 * serving a request: what a Python client shows in its RemoteError.
 */
export function remoteTraceback(type: string, message: string): string {
  return `Traceback (most recent call last):\n  File "shmbridge manager (Node ${process.version})", in _handle_request\n${type}: ${message}\n`;
}
