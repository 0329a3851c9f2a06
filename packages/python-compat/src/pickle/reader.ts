/**
 * An allow-list pickle reader: never a general unpickler. It decodes plain
 * data (None, bools, ints, floats, str, bytes, tuples, lists, dicts, sets)
 * from protocols 2–5, and resolves a global only if the caller allowed it by
 * name; anything else — `os.system`, `builtins.eval`, persistent ids,
 * extension codes, out-of-band buffers, protocol 0/1 instance opcodes — is
 * refused at the opcode that names it, before anything else is read. REDUCE,
 * NEWOBJ and BUILD execute nothing: they produce {@link PyCall} records.
 *
 * Untrusted input: every length is checked against the bytes left, nesting
 * and memo indices are bounded, ints are decoded in linear time and capped in
 * size, and what the data constructors copy (a memoized list made into a set
 * again and again) is charged to a budget proportional to the input, so time
 * and memory stay linear in the input.
 */
import { pickleInvalid, pickleRejected } from '@shmbridge/core';
import { PyTuple } from '../py.js';
import { Op } from './opcodes.js';
import { PyCall, PyGlobal } from './values.js';

export interface LoadOptions {
  /** `module.qualname` of every global the pickle may name, e.g. `multiprocessing.shared_memory.SharedMemory`. Default: none. */
  globals?: Iterable<string>;
  /** Deepest MARK/stack nesting accepted. Default 1000. */
  maxDepth?: number;
  /**
   * Longest int accepted, in bytes of its two's complement (LONG1/LONG4).
   * Default 1024 (an 8,192-bit int): no SharedMemory, ShareableList or
   * manager pickle holds one wider than 8 bytes.
   */
  maxIntBytes?: number;
}

const MARK = Symbol('mark');
/** Made once: constructing a TextDecoder costs more than decoding a whole request. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Constructors protocols 2 and 3 use for plain data (set, frozenset,
 * bytearray, and bytes as `_codecs.encode(str, 'latin1')`). They have no side
 * effects, so the reader builds their values itself; no other global is ever
 * called.
 */
class DataConstructor {
  constructor(readonly build: (args: unknown[]) => unknown) {}
}

const latin1 = (s: unknown): Uint8Array => Uint8Array.from(String(s), (c) => c.charCodeAt(0) & 0xff);
const DATA_CONSTRUCTORS = new Map<string, DataConstructor>();
for (const mod of ['builtins', '__builtin__']) {
  DATA_CONSTRUCTORS.set(`${mod}.set`, new DataConstructor(([items]) => new Set(Array.isArray(items) ? items : [])));
  DATA_CONSTRUCTORS.set(`${mod}.frozenset`, new DataConstructor(([items]) => new Set(Array.isArray(items) ? items : [])));
  DATA_CONSTRUCTORS.set(`${mod}.bytearray`, new DataConstructor(([x, enc]) => (x === undefined ? new Uint8Array(0) : x instanceof Uint8Array ? x.slice() : enc === 'latin-1' || enc === 'latin1' ? latin1(x) : undefined)));
}
DATA_CONSTRUCTORS.set('_codecs.encode', new DataConstructor(([x, enc]) => (typeof x === 'string' && (enc === 'latin1' || enc === 'latin-1') ? latin1(x) : undefined)));

/**
 * Little-endian two's complement of n bytes (LONG1/LONG4). Built from one hex
 * string, in time linear in n: shifting a growing BigInt one byte at a time
 * is quadratic (a 256 KiB LONG4 took 61 s that way).
 */
function leb(data: Uint8Array, at: number, n: number): bigint {
  if (n === 0) return 0n;
  const hex = Buffer.from(data.subarray(at, at + n)).reverse().toString('hex');
  const v = BigInt(`0x${hex}`);
  return data[at + n - 1]! & 0x80 ? v - (1n << BigInt(8 * n)) : v;
}

function int(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * Decodes a pickle. Python → JS: None → null, bool, int → number (bigint past
 * 2^53), float → number, str → string, bytes/bytearray → Uint8Array, tuple →
 * {@link PyTuple}, list → array, dict → Map, set/frozenset → Set, allowed
 * globals → {@link PyGlobal}, calls → {@link PyCall}.
 * @throws `ERR_PICKLE_REJECTED` for a global not allowed, or opcodes that could run code
 * @throws `ERR_PICKLE_INVALID` for truncated, malformed or too deeply nested input
 */
export function loads(data: Uint8Array, options: LoadOptions = {}): unknown {
  const allowed = new Set(options.globals ?? []);
  const maxDepth = options.maxDepth ?? 1000;
  const maxIntBytes = options.maxIntBytes ?? 1024;
  // What data constructors and REDUCE may copy in all: a few times the input.
  let budget = Math.max(1 << 20, 8 * data.length);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const bad = (what: string): never => {
    throw pickleInvalid(`${what} (at byte ${pos})`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length) bad(`truncated: ${n} more bytes expected, ${data.length - pos} left`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => view.getUint8(need(1));
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(data.length)) bad(`length ${v} is longer than the pickle`);
    return Number(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) bad('stack underflow');
    const v = stack.pop();
    if (v === MARK) bad('unexpected MARK');
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) bad('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) bad('no MARK to pop to');
    stack = prev!;
    return items;
  };
  const push = (v: unknown) => {
    stack.push(v);
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(data.subarray(at, at + n));
    } catch {
      return bad('str is not valid UTF-8');
    }
  };
  const bytes = (n: number): Uint8Array => {
    const at = need(n);
    return data.slice(at, at + n);
  };
  const resolve = (module: string, name: string): PyGlobal | DataConstructor => {
    const q = `${module}.${name}`;
    const data = DATA_CONSTRUCTORS.get(q);
    if (data) return data;
    if (!allowed.has(q)) throw pickleRejected(`global ${q} is not allowed (allowed: ${[...allowed].join(', ') || 'none'})`);
    return new PyGlobal(module, name);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 1000) bad('unterminated text line');
    const s = Buffer.from(data.subarray(pos, end)).toString('latin1');
    pos = end + 1;
    return s;
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) bad(`memo ${i} was never stored`);
    push(memo.get(i));
  };
  const memoPut = (i: number) => {
    memo.set(i, top());
  };
  const long = (n: number): number | bigint => {
    if (n > maxIntBytes) throw pickleRejected(`an int of ${n} bytes is wider than this reader accepts (maxIntBytes: ${maxIntBytes})`);
    return int(leb(data, need(n), n));
  };
  const charge = (units: number) => {
    budget -= units;
    if (budget < 0) bad('the pickle copies far more than its own size (a memoized value rebuilt again and again)');
  };
  const sizeOf = (x: unknown): number => (Array.isArray(x) ? x.length : x instanceof Uint8Array ? x.length : typeof x === 'string' ? x.length : 1);
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) bad('SETITEM(S) on something that is not a dict');
    if (items.length % 2) bad('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };

  if (data.length === 0) bad('empty input');
  for (;;) {
    const op = u8();
    switch (op) {
      case Op.PROTO: {
        const v = u8();
        if (v > 5) bad(`unsupported protocol ${v}`);
        break;
      }
      case Op.FRAME:
        u64(); // framing is a buffering hint; lengths are checked per opcode
        break;
      case Op.STOP: {
        const result = pop();
        if (pos !== data.length) bad(`${data.length - pos} bytes after STOP`);
        return result;
      }
      case Op.MARK:
        if (marks.length >= maxDepth) bad(`nesting deeper than ${maxDepth}`);
        marks.push(stack);
        stack = [];
        break;
      case Op.POP:
        if (stack.length) stack.pop();
        else popMark();
        break;
      case Op.POP_MARK:
        popMark();
        break;
      case Op.DUP:
        push(top());
        break;
      case Op.NONE:
        push(null);
        break;
      case Op.NEWTRUE:
        push(true);
        break;
      case Op.NEWFALSE:
        push(false);
        break;
      case Op.BININT:
        push(view.getInt32(need(4), true));
        break;
      case Op.BININT1:
        push(u8());
        break;
      case Op.BININT2:
        push(view.getUint16(need(2), true));
        break;
      case Op.LONG1:
        push(long(u8()));
        break;
      case Op.LONG4: {
        const n = view.getInt32(need(4), true);
        if (n < 0) bad('negative LONG4 length');
        push(long(n));
        break;
      }
      case Op.BINFLOAT:
        push(view.getFloat64(need(8), false));
        break;
      case Op.SHORT_BINUNICODE:
        push(text(u8()));
        break;
      case Op.BINUNICODE:
        push(text(u32()));
        break;
      case Op.BINUNICODE8:
        push(text(u64()));
        break;
      case Op.SHORT_BINBYTES:
        push(bytes(u8()));
        break;
      case Op.BINBYTES:
        push(bytes(u32()));
        break;
      case Op.BINBYTES8:
      case Op.BYTEARRAY8:
        push(bytes(u64()));
        break;
      case Op.EMPTY_TUPLE:
        push(new PyTuple([]));
        break;
      case Op.TUPLE1:
      case Op.TUPLE2:
      case Op.TUPLE3: {
        const n = op - Op.TUPLE1 + 1;
        if (stack.length < n) bad('stack underflow');
        const items = stack.splice(stack.length - n, n);
        if (items.includes(MARK)) bad('unexpected MARK');
        push(new PyTuple(items));
        break;
      }
      case Op.TUPLE:
        push(new PyTuple(popMark()));
        break;
      case Op.EMPTY_LIST:
        push([]);
        break;
      case Op.LIST:
        push(popMark());
        break;
      case Op.APPEND: {
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) bad('APPEND to something that is not a list');
        (list as unknown[]).push(v);
        break;
      }
      case Op.APPENDS: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) bad('APPENDS to something that is not a list');
        for (const x of items) (list as unknown[]).push(x);
        break;
      }
      case Op.EMPTY_DICT:
        push(new Map());
        break;
      case Op.DICT: {
        const m = new Map();
        setItems(m, popMark());
        push(m);
        break;
      }
      case Op.SETITEM: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case Op.SETITEMS: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case Op.EMPTY_SET:
        push(new Set());
        break;
      case Op.ADDITEMS: {
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) bad('ADDITEMS to something that is not a set');
        for (const x of items) (set as Set<unknown>).add(x);
        break;
      }
      case Op.FROZENSET:
        push(new Set(popMark()));
        break;
      case Op.GLOBAL: {
        const module = line();
        const name = line();
        push(resolve(module, name));
        break;
      }
      case Op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strs');
        push(resolve(module as string, name as string));
        break;
      }
      case Op.REDUCE: {
        const args = pop();
        const func = pop();
        if (func instanceof DataConstructor) {
          if (!(args instanceof PyTuple)) bad('REDUCE arguments are not a tuple');
          const items = (args as PyTuple).items;
          charge(items.length + items.reduce((n: number, x) => n + sizeOf(x), 0));
          const value = func.build([...items]);
          if (value === undefined) bad('unsupported arguments for a data constructor');
          push(value);
          break;
        }
        if (!(func instanceof PyGlobal || func instanceof PyCall)) bad('REDUCE of something that is not a callable global');
        if (!(args instanceof PyTuple)) bad('REDUCE arguments are not a tuple');
        push(new PyCall(func as PyGlobal | PyCall, args as PyTuple));
        break;
      }
      case Op.NEWOBJ: {
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal)) bad('NEWOBJ of something that is not a class');
        if (!(args instanceof PyTuple)) bad('NEWOBJ arguments are not a tuple');
        push(new PyCall(cls as PyGlobal, args as PyTuple, undefined, 'newobj'));
        break;
      }
      case Op.NEWOBJ_EX: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal) || !(args instanceof PyTuple) || !(kwargs instanceof Map)) bad('malformed NEWOBJ_EX');
        push(new PyCall(cls as PyGlobal, args as PyTuple, kwargs as Map<unknown, unknown>, 'newobj'));
        break;
      }
      case Op.BUILD: {
        const state = pop();
        const target = top();
        if (!(target instanceof PyCall)) bad('BUILD on something that is not an object');
        (target as PyCall).state = state;
        break;
      }
      case Op.BINGET:
        memoGet(u8());
        break;
      case Op.LONG_BINGET:
        memoGet(u32());
        break;
      case Op.GET:
        memoGet(Number(line()));
        break;
      case Op.BINPUT:
        memoPut(u8());
        break;
      case Op.LONG_BINPUT:
        memoPut(u32());
        break;
      case Op.PUT:
        memoPut(Number(line()));
        break;
      case Op.MEMOIZE:
        memoPut(memo.size);
        break;
      case Op.PERSID:
      case Op.BINPERSID:
        throw pickleRejected('persistent ids are not supported');
      case Op.EXT1:
      case Op.EXT2:
      case Op.EXT4:
        throw pickleRejected('extension registry codes (copyreg) are not supported');
      case Op.NEXT_BUFFER:
      case Op.READONLY_BUFFER:
        throw pickleRejected('out-of-band buffers are not supported');
      case Op.INST:
      case Op.OBJ:
        throw pickleRejected('protocol 0/1 instance opcodes (INST/OBJ) are not supported');
      case Op.BINSTRING:
      case Op.SHORT_BINSTRING:
        throw pickleRejected('Python 2 str opcodes are not supported');
      default:
        bad(`unknown or unsupported opcode 0x${op.toString(16)}`);
    }
  }
}
