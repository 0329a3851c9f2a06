/**
 * NumPy's `.npy` header, read and written exactly as `numpy.lib.format`
 * (numpy/lib/_format_impl.py) does. Pure: bytes in, bytes out.
 *
 *   \x93NUMPY | major | minor | header length (<u2 for 1.0, <u4 for 2.0/3.0)
 *   | "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
 *   | spaces | "\n"            — the whole prefix a multiple of 64 bytes
 *
 * so the data that follows starts on a 64-byte boundary (ARRAY_ALIGN). Keys
 * are written sorted, values as Python's repr; numpy adds spare spaces after
 * the dict so the growth axis can be rewritten in place
 * (GROWTH_AXIS_MAX_DIGITS). Version 1.0 is used when the header fits its
 * 16-bit length, else 2.0; 3.0 (UTF-8 header) is read.
 */
import { corruptError } from '../errors.js';

export const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
/** numpy refuses longer headers unless told to trust the file (_MAX_HEADER_SIZE). */
const MAX_HEADER_SIZE = 10000;
/** Dimensions we accept (numpy's NPY_MAXDIMS is 64). */
const MAX_DIMS = 64;
// Made once: constructing a TextDecoder costs more than parsing a header.
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface NpyHeader {
  /** NumPy type string, e.g. `<f4`. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Bytes before the data: magic, length word, header, padding. */
  dataOffset: number;
  version: [number, number];
}

/** Whether a block starts with the `.npy` magic. */
export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * The complete header bytes numpy would write for this array
 * (`_write_array_header` with version=None).
 */
export function formatNpyHeader(descr: string, fortranOrder: boolean, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${pyTuple(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[fortranOrder ? shape.length - 1 : 0]).length);
  const text = Buffer.from(dict, 'latin1');
  for (const [major, lengthBytes] of [[1, 2], [2, 4]] as const) {
    const hlen = text.length + 1; // the final newline
    const prefix = MAGIC.length + 2 + lengthBytes;
    const padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
    if (major === 1 && hlen + padlen > 0xffff) continue;
    const out = Buffer.alloc(prefix + hlen + padlen, 0x20);
    MAGIC.copy(out, 0);
    out[6] = major;
    out[7] = 0;
    if (lengthBytes === 2) out.writeUInt16LE(hlen + padlen, 8);
    else out.writeUInt32LE(hlen + padlen, 8);
    text.copy(out, prefix);
    out[out.length - 1] = 0x0a;
    return out;
  }
  throw new RangeError('npy header too long');
}

/**
 * Parses the header at the start of a block another process wrote. Untrusted:
 * the magic, version, length, dict syntax, keys and values are all checked, and
 * any problem throws `ERR_SHM_CORRUPT` naming the block.
 */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  const fail = (what: string): never => {
    throw corruptError(name, `bad .npy header: ${what}`);
  };
  if (bytes.length < 10 || !isNpy(bytes)) fail('no \\x93NUMPY magic');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (minor !== 0 || major < 1 || major > 3) fail(`unsupported version ${major}.${minor}`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated before the header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (hlen > MAX_HEADER_SIZE) fail(`header of ${hlen} bytes is longer than numpy accepts (${MAX_HEADER_SIZE})`);
  if (start + hlen > bytes.length) fail(`header of ${hlen} bytes runs past the end of the block (${bytes.length} bytes)`);
  let text: string;
  try {
    text = (major === 3 ? utf8 : latin1).decode(bytes.subarray(start, start + hlen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  const dict = parseDict(text, fail);
  return { ...dict, dataOffset: start + hlen, version: [major, minor] };
}

/**
 * The one Python literal numpy writes: a dict of exactly 'descr' (a str),
 * 'fortran_order' (a bool) and 'shape' (a tuple of ints). Anything else is
 * refused; nothing is evaluated.
 */
function parseDict(src: string, fail: (what: string) => never): Omit<NpyHeader, 'dataOffset' | 'version'> {
  let i = 0;
  const ws = () => {
    while (i < src.length && (src[i] === ' ' || src[i] === '\t' || src[i] === '\n' || src[i] === '\r')) i++;
  };
  const expect = (c: string) => {
    ws();
    if (src[i] !== c) fail(`expected '${c}' at ${i}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = src[i];
    if (q !== "'" && q !== '"') fail(`expected a string at ${i}`);
    const end = src.indexOf(q!, i + 1);
    if (end < 0) fail('unterminated string');
    const s = src.slice(i + 1, end);
    if (s.includes('\\')) fail('escapes in strings are not supported');
    i = end + 1;
    return s;
  };
  const int = (): number => {
    ws();
    // Python's int literal: no leading zeros (numpy's ast.literal_eval refuses "07").
    const m = /^(0|[1-9]\d{0,15})(?![0-9])/.exec(src.slice(i, i + 18));
    if (!m) fail(`expected a non-negative integer (no leading zeros) at ${i}`);
    i += m![0].length;
    const n = Number(m![0]);
    if (!Number.isSafeInteger(n)) fail(`dimension ${m![0]} is too large`);
    return n;
  };
  const values = new Map<string, unknown>();
  // numpy writes the dict at the very start; Python would also take some leading
  // whitespace, but we only accept what can never be an indentation error.
  if (src[0] !== '{') fail('header does not start with {');
  expect('{');
  for (;;) {
    ws();
    if (src[i] === '}') {
      i++;
      break;
    }
    const key = str();
    if (values.has(key)) fail(`duplicate key '${key}'`);
    expect(':');
    ws();
    if (key === 'descr') values.set(key, str());
    else if (key === 'fortran_order') {
      if (src.startsWith('True', i)) (values.set(key, true), (i += 4));
      else if (src.startsWith('False', i)) (values.set(key, false), (i += 5));
      else fail('fortran_order must be True or False');
    } else if (key === 'shape') {
      expect('(');
      const shape: number[] = [];
      for (;;) {
        ws();
        if (src[i] === ')') {
          i++;
          break;
        }
        if (shape.length >= MAX_DIMS) fail(`more than ${MAX_DIMS} dimensions`);
        shape.push(int());
        ws();
        if (src[i] === ',') i++;
        else if (src[i] !== ')') fail(`expected ',' or ')' in shape at ${i}`);
      }
      values.set(key, shape);
    } else fail(`unexpected key '${key}' (numpy writes only descr, fortran_order, shape)`);
    ws();
    if (src[i] === ',') i++;
    else if (src[i] !== '}') fail(`expected ',' or '}' at ${i}`);
  }
  const rest = src.slice(i);
  if (!/^[ \t\r\n]*$/.test(rest)) fail('text after the header dict');
  // "}\n  " is an "unexpected indent" to Python's parser: whitespace that
  // breaks the line must end with the break (numpy ends with "\n").
  if (/[\r\n]/.test(rest) && !/[\r\n]$/.test(rest)) fail('whitespace after the last line break');
  for (const k of ['descr', 'fortran_order', 'shape']) if (!values.has(k)) fail(`missing key '${k}'`);
  return { descr: values.get('descr') as string, fortranOrder: values.get('fortran_order') as boolean, shape: values.get('shape') as number[] };
}
