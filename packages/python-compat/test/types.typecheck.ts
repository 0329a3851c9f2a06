/**
 * Type tests: not run by Jest but type-checked by `pnpm test`'s first step
 * (`tsc -p tsconfig.json`, strict), which fails if a line marked
 * `@ts-expect-error` compiles or if any other line does not. Nothing here is
 * executed.
 */
import { ShareableList, type PyValue } from '@shmbridge/python-compat';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

export function indexSyntax(sl: ShareableList): void {
  const first = sl[0];
  // noUncheckedIndexedAccess: an index may be past the end (it throws at run time)
  assertType<Equal<typeof first, PyValue | undefined>>(true);
  sl[1] = 'text';
  sl[-1] = 2n;
  sl[2] = null;
  // @ts-expect-error a list holds Python values, not objects
  sl[0] = { a: 1 };
  const n: number = sl.length;
  void n;
}
