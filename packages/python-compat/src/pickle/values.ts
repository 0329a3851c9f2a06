/**
 * What pickles decode to, and what the writer takes, beyond plain JS values:
 * a reference to a Python global and a call record. Decoding never runs
 * anything: a REDUCE or NEWOBJ only records which (allow-listed) global would
 * be called with which arguments, for the caller to interpret.
 */
import type { PyTuple } from '../py.js';

/** A Python global `module.name` (a class or function), e.g. `multiprocessing.shared_memory.SharedMemory`. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name` */
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * `func(*args, **kwargs)` as a pickle spells it (REDUCE, NEWOBJ, NEWOBJ_EX),
 * with the `state` a BUILD gave it. When writing, `state` adds a BUILD.
 */
export class PyCall {
  state: unknown = undefined;
  constructor(
    readonly func: PyGlobal | PyCall,
    readonly args: PyTuple,
    readonly kwargs: Map<unknown, unknown> | undefined = undefined,
    readonly how: 'reduce' | 'newobj' = 'reduce',
  ) {}
}
