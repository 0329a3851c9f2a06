/**
 * `shmbridge ls | show NAME | rm NAME…` (SPEC "CLI"): plain text by default,
 * `--json` for scripts. Returns the exit code: 0, 1 when an operation failed
 * (e.g. `rm` of a missing block), 2 for a usage error.
 */
import { inspect } from 'node:util';
import { unlinkBlock } from '@shmbridge/core';
import { listBlocks, SHM_DIR, type BlockInfo } from './blocks.js';
import { pythonHelperPath } from '@shmbridge/python-compat';
import { describeBlock, SHOWN, type Description } from './show.js';
import { forTerminal } from './terminal.js';

export const USAGE = `usage: shmbridge [--json] <command>
  ls            list the blocks in ${SHM_DIR}: name, size, owner, age, what each holds
                (ShareableList, arrow, tensor or raw)
  show NAME     a list's items, a table's schema and first ${SHOWN} rows, a tensor's
                dtype, shape and first values, or a raw block's first bytes
  rm NAME...    unlink blocks (as SharedMemory.unlink / shm_unlink)
  python-path   the folder of the Python helper shmbridge, for PYTHONPATH or pip install
  --json        machine-readable output
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function lsText(blocks: BlockInfo[]): string {
  if (!blocks.length) return `no blocks in ${SHM_DIR}\n`;
  return table([['NAME', 'SIZE', 'OWNER', 'AGE', 'KIND'], ...blocks.map((b) => [forTerminal(b.name), String(b.size), forTerminal(b.owner), age(b.ageSeconds), b.kind ?? `? (${forTerminal(b.error ?? '')})`])]);
}

function showText(d: Description): string {
  const { name, size, kind, ...rest } = d;
  const lines = [`${forTerminal(name)}: ${kind}, ${size} bytes`];
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'items' || key === 'firstRows' || key === 'schema') {
      lines.push(`${key}:`);
      (value as unknown[]).forEach((v, i) => lines.push(`  [${i}] ${forTerminal(inspect(v, { breakLength: Infinity, depth: 4 }), true)}`));
    } else {
      lines.push(`${key}: ${typeof value === 'string' ? forTerminal(value) : forTerminal(inspect(value, { breakLength: Infinity }), true)}`);
    }
  }
  return lines.join('\n') + '\n';
}

function failure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error)) return String(err);
  return e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message;
}

export function run(argv: readonly string[], io: Io): number {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [command, ...names] = args;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? 2 : 0;
  }
  const unknownFlag = args.find((a) => a.startsWith('-'));
  if (unknownFlag) {
    io.err(`shmbridge: unknown option ${forTerminal(unknownFlag)}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'ls': {
      let blocks: BlockInfo[];
      try {
        blocks = listBlocks();
      } catch (err) {
        io.err(`shmbridge ls: cannot list ${SHM_DIR} (${forTerminal(failure(err))}); listing needs Linux's /dev/shm\n`);
        return 1;
      }
      io.out(json ? `${JSON.stringify(blocks)}\n` : lsText(blocks));
      return 0;
    }
    case 'show': {
      if (names.length !== 1) {
        io.err(`shmbridge show: give one block name\n${USAGE}`);
        return 2;
      }
      try {
        const d = describeBlock(names[0]!);
        io.out(json ? `${JSON.stringify(d)}\n` : showText(d));
        return 0;
      } catch (err) {
        io.err(`shmbridge show: ${forTerminal(failure(err))}\n`);
        return 1;
      }
    }
    case 'rm': {
      if (!names.length) {
        io.err(`shmbridge rm: give at least one block name\n${USAGE}`);
        return 2;
      }
      const results = names.map((name) => {
        try {
          unlinkBlock(name);
          return { name, removed: true };
        } catch (err) {
          return { name, removed: false, error: failure(err) };
        }
      });
      if (json) io.out(`${JSON.stringify(results)}\n`);
      else for (const r of results) (r.removed ? io.out : io.err)(r.removed ? `removed ${forTerminal(r.name)}\n` : `shmbridge rm: ${forTerminal(r.error ?? '')}\n`);
      return results.every((r) => r.removed) ? 0 : 1;
    }
    case 'python-path': {
      if (names.length) {
        io.err(`shmbridge python-path: takes no arguments\n${USAGE}`);
        return 2;
      }
      const dir = pythonHelperPath();
      io.out(`${json ? JSON.stringify(dir) : dir}\n`);
      return 0;
    }
    default:
      io.err(`shmbridge: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}
