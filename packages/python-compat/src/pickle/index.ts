/**
 * A small pickle codec for talking to CPython: `dumps` writes protocol 4 (what
 * `pickle.dumps` writes on 3.8+), `loads` reads protocols 2–5 with an
 * allow-list of globals and never executes anything.
 *
 * Value model, both ways: None ↔ null, bool ↔ boolean, int ↔ number|bigint
 * (write: integral numbers; `py.int` forces), float ↔ number (write: non-
 * integral numbers and -0; `py.float` forces), str ↔ string, bytes ↔
 * Uint8Array, tuple ↔ {@link PyTuple} (`py.tuple(...)`), list ↔ array,
 * dict ↔ Map (plain objects are written as dicts too), set → Set,
 * a global ↔ {@link PyGlobal}, a call (REDUCE/NEWOBJ, with BUILD state) ↔ {@link PyCall}.
 *
 * @example
 * ```ts
 * import { dumps, loads, py } from '@shmbridge/python-compat';
 * const bytes = dumps(py.tuple(null, 'track_segment', py.tuple('psm_1a2b3c4d'), new Map()));
 * loads(bytes); // PyTuple [null, 'track_segment', PyTuple ['psm_1a2b3c4d'], Map {}]
 * ```
 */
export { dumps } from './writer.js';
export { loads, type LoadOptions } from './reader.js';
export { PyCall, PyGlobal } from './values.js';
