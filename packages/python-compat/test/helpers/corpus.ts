/**
 * The lists every CPython builds and TS must match: every type, the empty
 * list, str/bytes lengths around the 8-byte boundaries, 1–4 byte UTF-8,
 * trailing and inner NULs, int64 edges, special floats, 200 mixed items.
 */
import { T, type Tag } from './tags.js';

export interface Case {
  label: string;
  items: Tag[];
  /** CPython truncates this list's text (UTF-8 longer than its code-point allocation): TS allocates more (the SPEC fix). */
  lossyInCPython?: boolean;
}

const cp = (s: string) => [...s].length;
/** struct "{k}s" with k = 8·(len//8 + 1) truncates when the UTF-8 is longer than k. */
export const truncatedByCPython = (s: string) => Buffer.byteLength(s) > 8 * (Math.floor(cp(s) / 8) + 1);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function mixed(n: number, seed: number): Tag[] {
  const r = rng(seed);
  const words = ['', 'a', 'howdy', 'exactly8', 'é', '€uro', '😀', 'ninechars', 'x'.repeat(23)];
  const out: Tag[] = [];
  for (let i = 0; i < n; i++) {
    switch (Math.floor(r() * 6)) {
      case 0: out.push(T.int(Math.floor((r() - 0.5) * 2 ** 40))); break;
      case 1: out.push(T.float((r() - 0.5) * 1e6)); break;
      case 2: out.push(T.str(words[Math.floor(r() * words.length)]!)); break;
      case 3: out.push(T.bytes(Buffer.from(Array.from({ length: Math.floor(r() * 20) }, () => 1 + Math.floor(r() * 255))))); break;
      case 4: out.push(T.bool(r() < 0.5)); break;
      default: out.push(T.none());
    }
  }
  return out;
}

export function corpus(): Case[] {
  const cases: Case[] = [
    { label: 'empty list', items: [] },
    { label: 'SPEC example', items: [T.str('howdy'), T.bytes('HoWdY'), T.float(-273.154), T.int(100), T.none(), T.bool(true), T.int(42)] },
    { label: 'ints', items: [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53].map(T.int) },
    { label: 'int64 edges', items: [T.int(2n ** 63n - 1n), T.int(-(2n ** 63n)), T.int(2n ** 62n), T.int(-(2n ** 53n) - 1n)] },
    { label: 'floats', items: [0, -0, 1, 1.5, -2.25, Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, 5e-324, 1e308].map(T.float) },
    { label: 'special floats', items: [NaN, Infinity, -Infinity, -0].map(T.float) },
    { label: 'bools and None', items: [T.bool(true), T.bool(false), T.none(), T.none(), T.bool(true)] },
    { label: 'inner nuls', items: [T.str('a\0b'), T.bytes('\0\x01\0\x02'), T.str('\0x')] },
    { label: 'trailing nuls (read back stripped, as CPython does)', items: [T.str('a\0'), T.str('\0'), T.bytes('ab\0\0'), T.str('exactly\0')] },
    { label: 'BOM and controls', items: [T.str('\ufeffbom'), T.str('\t\n\r'), T.str('\x7f\x01')] },
    { label: '200 mixed items', items: mixed(200, 42) },
    { label: '64 mixed items, another seed', items: mixed(64, 7) },
  ];
  for (let n = 0; n <= 25; n++) cases.push({ label: `str of ${n} ASCII chars`, items: [T.str('abcdefghijklmnopqrstuvwxyz'.slice(0, n)), T.int(n)] });
  for (let n = 0; n <= 17; n++) cases.push({ label: `bytes of ${n}`, items: [T.bytes(Buffer.alloc(n, 0x41 + n)), T.none()] });
  for (const [ch, w] of [['é', 2], ['€', 3], ['😀', 4]] as const) {
    for (let n = 0; n <= 10; n++) {
      const s = ch.repeat(n);
      cases.push({ label: `${n} × ${w}-byte UTF-8`, items: [T.str(s)], lossyInCPython: truncatedByCPython(s) });
    }
  }
  for (const s of ['aé€😀', 'x😀😀😀😀😀😀y', 'é'.repeat(7) + 'a']) cases.push({ label: `mixed-width text ${s}`, items: [T.str(s), T.int(1)], lossyInCPython: truncatedByCPython(s) });
  return cases;
}
