/**
 * Argument and handle validation at the public boundary, with zod. Inside the
 * packages, values are trusted to have the types these schemas gave them.
 */
import type { z } from 'zod';
import { describe, invalidArgType, invalidArgValue, type CodedError } from './errors.js';

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function label(name: string, path: readonly PropertyKey[]): string {
  return [name, ...path.map(String)].join('.');
}

/**
 * Parses a public argument with its schema (or with `accepts`, a faster
 * check that may only accept values the schema accepts, returned as they
 * are); on failure throws the Node-style
 * error for the first problem: `TypeError` `ERR_INVALID_ARG_TYPE` for a wrong
 * type, `RangeError` `ERR_OUT_OF_RANGE` for a number outside its range (or not
 * an integer), `TypeError` `ERR_INVALID_ARG_VALUE` otherwise. The message
 * carries zod's description of the problem.
 */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, name: string, accepts?: (value: unknown) => value is z.output<S>): z.output<S> {
  // A hand-written check for the common, valid case: zod's parse costs ~4 µs,
  // more than a syscall, on paths like create/attach. It may only accept what
  // the schema accepts; anything else still goes through zod for its error.
  if (accepts?.(value)) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = label(name, issue.path);
  const received = valueAt(value, issue.path);
  if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'not_multiple_of' ||
      (issue.code === 'invalid_type' && typeof received === 'number' && (issue.expected === 'number' || issue.expected === 'int'))) {
    const err = new RangeError(`The value of "${where}" is out of range: ${issue.message}. Received ${describe(received)}`);
    throw Object.assign(err, { code: 'ERR_OUT_OF_RANGE' });
  }
  if (issue.code === 'invalid_type') throw invalidArgType(where, `of type ${issue.expected}`, received);
  throw invalidArgValue(where, `is invalid: ${issue.message}`, received);
}

/**
 * Parses a value that arrived from another process or language (a JSON
 * handle, a message field). Untrusted input: on failure throws `TypeError`
 * `ERR_INVALID_HANDLE` naming what was expected and zod's description of the
 * first problem, before anything else (no syscall) is done with it.
 */
export function parseHandle<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const at = issue.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
  const err = new TypeError(`Invalid ${what}${at}: ${issue.message}`) as TypeError & CodedError;
  err.code = 'ERR_INVALID_HANDLE';
  throw err;
}
