#!/usr/bin/env node
/** The `shmbridge` command. */
import { run } from './cli.js';

process.exitCode = run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
