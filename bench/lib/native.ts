/**
 * @shmbridge/core's internal binding (one syscall per function), for benches
 * that compose what the public API does not offer — e.g. reserve strategies
 * (bench/core/reserve.bench.ts). Not a public API: benches only.
 */
export { native, trackerExecutable } from '../../packages/core/dist/native.js';
