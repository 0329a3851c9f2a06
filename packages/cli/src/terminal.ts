/**
 * Text that a block controls, made safe to print on a terminal. A block's
 * name is any bytes but '/' and NUL, and any local user can create one in the
 * world-writable /dev/shm: a name like "\e]0;title\a\e[31mRED" would retitle
 * the terminal and recolour what follows. Control characters (C0, DEL, C1),
 * bidirectional overrides and line/paragraph separators are shown as escapes,
 * as `util.inspect` shows them inside strings; `--json` output stays exact.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

function escape(c: string): string {
  if (c === '\\') return '\\\\';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every character that could steer a terminal written as an
 * escape (`\x1b`, `\u202e`), and backslashes doubled so the escapes are
 * unambiguous — except in `util.inspect` output (`inspected`), which has
 * escaped its strings already.
 */
export function forTerminal(text: string, inspected = false): string {
  return text.replace(inspected ? UNSAFE : UNSAFE_OR_BACKSLASH, escape);
}
