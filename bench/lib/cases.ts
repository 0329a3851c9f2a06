/**
 * Benchmark cases shared by a bench's closures: each side (shmbridge, CPython,
 * the floors) runs the same list, so every ratio compares like with like.
 */
import { getSystemErrorName } from 'node:util';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** One timed case: `batch` ops per sample, `samples` samples after `warmup`. */
export interface Case {
  key: string;
  label: string;
  size: number;
  batch: number;
  samples: number;
  warmup: number;
}

/** Throws for a `-errno` result of a native floor call, else returns the value. */
export function ok<T>(result: T | number, what: string): T {
  if (typeof result === 'number' && result < 0) throw new Error(`${what}: ${getSystemErrorName(result)}`);
  return result as T;
}
