/**
 * The option objects of `SharedMemory` and `view()`: their zod schemas (the
 * contract, and the error messages) and hand-written checks of the same
 * rules for the hot path (zod's parse costs ~4 µs, more than a syscall).
 * test/options.test.ts pins that a check never accepts what its schema refuses.
 */
import { z } from 'zod';

export const optionsSchema = z
  .object({
    name: z.string().nullable().optional(),
    create: z.boolean().optional(),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    track: z.boolean().optional(),
    reserve: z.boolean().optional(),
    populate: z.boolean().optional(),
  })
  .strict();

const OPTION_KEYS = new Set(['name', 'create', 'size', 'track', 'reserve', 'populate']);

/** What `optionsSchema` accepts, checked by hand (see parseArg). */
export function isValidOptions(value: unknown): value is z.output<typeof optionsSchema> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) {
    if (!OPTION_KEYS.has(key)) return false;
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (key === 'name' ? v !== null && typeof v !== 'string' : key === 'size' ? !(Number.isSafeInteger(v) && (v as number) >= 0) : typeof v !== 'boolean') return false;
  }
  return true;
}

export const viewOptionsSchema = z
  .object({
    offset: z.number().int().min(0).optional(),
    length: z.number().int().min(0).optional(),
  })
  .strict()
  .optional();

/** What `viewOptionsSchema` accepts, checked by hand (see parseArg). */
export function isValidViewOptions(value: unknown): value is z.output<typeof viewOptionsSchema> {
  if (value === undefined) return true;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if ((key !== 'offset' && key !== 'length') || (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0))) return false;
  }
  return true;
}
