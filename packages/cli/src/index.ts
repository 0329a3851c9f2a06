/**
 * @shmbridge/cli: the `shmbridge` command (`ls`, `show`, `rm`), and the
 * functions behind it for programs that want the same answers.
 * @packageDocumentation
 */
export { run, USAGE } from './cli.js';
export type { Io } from './cli.js';
export { listBlocks, SHM_DIR } from './blocks.js';
export type { BlockInfo } from './blocks.js';
export { describeBlock } from './show.js';
export type { Description } from './show.js';
export { kindOf } from './kind.js';
export type { Kind } from './kind.js';
