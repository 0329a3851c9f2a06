/**
 * Longer fuzzing of ShareableList against corrupt blocks (the property the
 * test suite runs 3,000 times):  pnpm fuzz:shareable-list [runs] [seed]
 * Runs in a private /dev/shm is not required: every block is unlinked.
 */
import fc from 'fast-check';
import { damage, exercise } from '../packages/python-compat/test/helpers/corrupt.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const outcomes = { read: 0, refused: 0 };
const started = performance.now();
fc.assert(fc.property(damage, (d) => void outcomes[exercise(d)]++), { numRuns: runs, seed });
const s = ((performance.now() - started) / 1000).toFixed(1);
console.log(`fuzz-shareable-list: ${runs} cases (seed ${seed}) in ${s} s: ${outcomes.read} read, ${outcomes.refused} refused, no unchecked read`);
