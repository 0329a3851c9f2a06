/**
 * The floors under the core benchmarks, built at bench time into
 * `bench/.build/` from `bench/native-floor/` (sources only are committed):
 * - `floor` (floor.c): the syscalls alone, timed in C with clock_gettime;
 * - `napi_floor.node` (napi-floor.cc): the least a node-addon-api library can
 *   do — map, wrap as an external ArrayBuffer, detach and munmap on close.
 * Each is rebuilt only when its sources are newer than the build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stats, type Stats } from './measure.js';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(benchRoot, 'native-floor');
const out = join(benchRoot, '.build');
const require = createRequire(import.meta.url);

function stale(target: string, inputs: string[]): boolean {
  if (!existsSync(target)) return true;
  const built = statSync(target).mtimeMs;
  return inputs.some((f) => statSync(f).mtimeMs > built);
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench: building a floor failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
}

/** Path of the C floor executable, compiled with `cc -O2` if needed. */
export function cFloorExecutable(): string {
  const exe = join(out, 'floor');
  const src = join(sources, 'floor.c');
  if (stale(exe, [src])) {
    mkdirSync(out, { recursive: true });
    run('cc', ['-O2', '-Wall', '-o', exe, src, '-lrt'], out);
  }
  return exe;
}

/**
 * node-gyp must use the headers of the running Node, never download any:
 * the same rule as packages/core/scripts/install.cjs (npm's nodedir if set,
 * else the prefix `node` is installed under).
 */
function nodedirArgs(): string[] {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(process.execPath, '..', '..');
  if (!existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    throw new Error(`bench: no Node headers under ${prefix}/include/node; set npm_config_nodedir (nothing is downloaded)`);
  }
  return [`--nodedir=${prefix}`];
}

/** The N-API floor addon (`native-floor/napi-floor.cc`). Functions return `-errno` on failure. */
export interface NapiFloor {
  /** With `trackFd` (a tracker pipe), also fstat + one register line, as a tracked create. */
  create(path: string, size: number, reserve: boolean, mmapFlags: number, trackFd?: number): ArrayBuffer | number;
  attach(path: string): ArrayBuffer | number;
  close(buffer: ArrayBuffer): number;
  /** With `trackFd`, also one unregister line. */
  unlink(path: string, trackFd?: number): number;
}

/** Loads the N-API floor, building it with node-gyp (in `bench/.build/napi-floor/`) if needed. */
export function napiFloor(): NapiFloor {
  const dir = join(out, 'napi-floor');
  const addon = join(dir, 'build', 'Release', 'napi_floor.node');
  const inputs = ['napi-floor.cc', 'binding.gyp'].map((f) => join(sources, f));
  if (stale(addon, inputs)) {
    mkdirSync(dir, { recursive: true });
    // Built from a copy, so node-gyp's build/ lands under .build/ and the
    // sources folder stays clean; node-addon-api resolves from bench/.
    for (const f of inputs) copyFileSync(f, join(dir, f.slice(sources.length + 1)));
    run(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--loglevel=warn', ...nodedirArgs()], dir);
  }
  return require(addon) as NapiFloor;
}

/** Runs the C floor with `args` and returns the JSON it prints. */
function cFloorJson<T>(args: Array<string | number>): T {
  const r = spawnSync(cFloorExecutable(), args.map(String), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench: floor ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Runs the C floor and returns its statistics.
 * @param args `['create', size, samples, reserve, flags]` or `['attach', name, samples]`
 */
export function runCFloor(args: Array<string | number>): Stats {
  return stats(cFloorJson<{ ns: number[] }>(args).ns);
}

/** One create (with a reserve strategy) and one full memset in C: ns of each. */
export function cFloorFill(size: number, reserve: boolean, mmapFlags: number, prefaultWrite: boolean): { create: number; fill: number } {
  return cFloorJson(['fill', size, reserve ? 1 : 0, mmapFlags, prefaultWrite ? 1 : 0]);
}
