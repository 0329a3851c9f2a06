/** Runs examples the way the README says to: through tsx, importing the built packages. */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const examples = fileURLToPath(new URL('..', import.meta.url));

export function runExample(file: string, timeout = 120_000) {
  return spawnSync(process.execPath, [tsxCli, file], { cwd: examples, encoding: 'utf8', timeout });
}
