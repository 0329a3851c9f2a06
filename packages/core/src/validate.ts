/**
 * Argument and handle validation at the public boundary, with zod. Inside the
 * packages, values are trusted to have the types these schemas gave them.
 */
import { inspect } from 'node:util';
import type { z } from 'zod';
import { invalidArgType, invalidArgValue, outOfRange, type CodedError } from './errors.js';

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function label(name: string, path: readonly PropertyKey[]): string {
  return [name, ...path.map(String)].join('.');
}

/**
 * The argument error for a zod issue, in the shapes of errors.ts (Node's
 * `ERR_INVALID_ARG_TYPE` / `ERR_OUT_OF_RANGE` / `ERR_INVALID_ARG_VALUE`
 * messages), so a schema's refusal reads like every hand-written check:
 * `The value of "options.size" is out of range. It must be >= 0. Received …`,
 * never zod's own wording.
 */
export function argError(issue: z.core.$ZodIssue, name: string, value: unknown): Error {
  const where = label(name, issue.path);
  const received = valueAt(value, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      // NaN, Infinity and 1.5 where an int goes are numbers: wrong range, not wrong type.
      if (typeof received === 'number' && (issue.expected === 'number' || issue.expected === 'int')) {
        return outOfRange(where, issue.expected === 'int' ? 'an integer' : 'a finite number', received);
      }
      return invalidArgType(where, `of type ${issue.expected === 'int' ? 'number' : issue.expected}`, received);
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.origin === 'array' || issue.origin === 'string' || issue.origin === 'set') {
        const length = (received as { length?: number; size?: number } | undefined);
        return outOfRange(`${where}.length`, `${op} ${bound}`, length?.length ?? length?.size);
      }
      return outOfRange(where, `${op} ${bound}`, received);
    }
    case 'not_multiple_of':
      return outOfRange(where, `a multiple of ${issue.divisor}`, received);
    case 'unrecognized_keys':
      return invalidArgValue(where, `has unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`, received);
    case 'invalid_value':
      return invalidArgValue(where, `must be one of ${issue.values.map((v) => inspect(v)).join(', ')}`, received);
    case 'invalid_union': {
      // Each alternative refused it; when each wanted another type, say which types.
      const firsts = issue.errors.map((branch) => branch[0]);
      if (firsts.every((i) => i?.code === 'invalid_type' && i.path.length === 0)) {
        const types = [...new Set(firsts.map((i) => (i as { expected: string }).expected))];
        return invalidArgType(where, `of type ${types.join(' or ')}`, received);
      }
      return invalidArgValue(where, 'matches none of its accepted forms', received);
    }
    case 'invalid_format':
      return invalidArgValue(where, `must be a valid ${issue.format}`, received);
    case 'custom':
      // A refinement's message is ours, written for users.
      return invalidArgValue(where, issue.message, received);
    default:
      return invalidArgValue(where, 'is invalid', received);
  }
}

/**
 * Parses a public argument with its schema (or with `accepts`, a faster
 * check that may only accept values the schema accepts, returned as they
 * are); on failure throws the Node-style error for the first problem (see
 * {@link argError}): `TypeError` `ERR_INVALID_ARG_TYPE` for a wrong type,
 * `RangeError` `ERR_OUT_OF_RANGE` for a number (or length) outside its range
 * or not an integer, `TypeError` `ERR_INVALID_ARG_VALUE` otherwise.
 */
export function parseArg<S extends z.ZodType>(schema: S, value: unknown, name: string, accepts?: (value: unknown) => value is z.output<S>): z.output<S> {
  // A hand-written check for the common, valid case: zod's parse costs ~4 µs,
  // more than a syscall, on paths like create/attach. It may only accept what
  // the schema accepts; anything else still goes through zod for its error.
  if (accepts?.(value)) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw argError(result.error.issues[0]!, name, value);
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
