#!/usr/bin/env node
// `prepack` of @shmbridge/core: prebuilt binaries shipped inside the package,
// so `npm install` needs no compiler where one matches (scripts/install.cjs).
//
//   prebuilds/linux-x64/node.abi<N>.glibc.node   the addon, one per Node ABI
//   prebuilds/linux-x64/shmbridge-tracker        the tracker (needs libc only)
//
// The addon uses V8's C++ API (native/addon.cc wraps mappings in V8 backing
// stores), so it is not Node-API stable: each binary is tagged with the ABI it
// was built for (`abi115` = Node 20) and node-gyp-build loads it only there.
// One binary is built for every Node whose headers are on this machine —
// beside this `node`, in npm's `nodedir`, or in node-gyp's header cache —
// and nothing is downloaded. A prebuild newer than native/ and binding.gyp is
// kept, so packing twice builds once.
'use strict';
const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const prebuildify = require('prebuildify');

const root = path.resolve(__dirname, '..');
const tuple = `${process.platform}-${process.arch}`;
const out = path.join(root, 'prebuilds', tuple);
const TRACKER = 'shmbridge-tracker';

/** Folders that may hold a Node's headers as `include/node/node_version.h`. */
function headerDirs() {
  const dirs = [path.resolve(process.execPath, '..', '..')];
  const nodedir = process.env.npm_config_nodedir ||
    spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
  if (nodedir && nodedir !== 'undefined' && nodedir !== 'null') dirs.push(path.resolve(nodedir));
  for (const cache of [path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'node-gyp'), path.join(os.homedir(), '.node-gyp')]) {
    if (existsSync(cache)) dirs.push(...readdirSync(cache).map((v) => path.join(cache, v)));
  }
  return dirs;
}

/** `{ version, abi, nodedir }` for each distinct ABI whose headers are here. */
function targets() {
  const byAbi = new Map();
  for (const nodedir of headerDirs()) {
    const header = path.join(nodedir, 'include', 'node', 'node_version.h');
    if (!existsSync(path.join(nodedir, 'include', 'node', 'node_api.h')) || !existsSync(header)) continue;
    const text = readFileSync(header, 'utf8');
    const num = (name) => text.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
    const version = [num('NODE_MAJOR_VERSION'), num('NODE_MINOR_VERSION'), num('NODE_PATCH_VERSION')].join('.');
    const abi = num('NODE_MODULE_VERSION');
    if (abi && !byAbi.has(abi)) byAbi.set(abi, { version, abi, nodedir });
  }
  return [...byAbi.values()];
}

function newestSource() {
  const files = ['binding.gyp', ...readdirSync(path.join(root, 'native')).map((f) => path.join('native', f))];
  return Math.max(...files.map((f) => statSync(path.join(root, f)).mtimeMs));
}

const fresh = (file) => existsSync(file) && statSync(file).mtimeMs > newestSource();

function strip(file) {
  const r = spawnSync('strip', ['--strip-all', file], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`strip ${file} failed`);
}

function build(target, staging) {
  return new Promise((resolve, reject) => {
    // node-gyp reads npm_config_nodedir: the headers here, not a download.
    process.env.npm_config_nodedir = target.nodedir;
    prebuildify(
      { cwd: staging, out: root, targets: [{ runtime: 'node', target: target.version }], name: 'node', tagLibc: true, strip: true },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

async function main() {
  if (process.platform !== 'linux') {
    console.log(`@shmbridge/core prepack: no prebuilds on ${process.platform} (installs build from source)`);
    return;
  }
  const found = targets();
  if (!found.length) throw new Error('no Node headers on this machine (include/node/node_api.h beside node, in npm\'s nodedir or node-gyp\'s cache)');
  const wanted = found.filter((t) => !fresh(path.join(out, `node.abi${t.abi}.glibc.node`)) || !fresh(path.join(out, TRACKER)));
  for (const t of found) {
    console.log(`@shmbridge/core prepack: ${tuple} abi${t.abi} (Node ${t.version}, headers in ${t.nodedir}): ${wanted.includes(t) ? 'building' : 'up to date'}`);
  }
  if (!wanted.length) return;
  // Build from a copy under build/ (same filesystem as prebuilds/, which
  // prebuildify renames into) so the local build/Release the workspace loads
  // is left as it was.
  const staging = path.join(root, 'build', 'prebuild');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const f of ['binding.gyp', 'native']) cpSync(path.join(root, f), path.join(staging, f), { recursive: true });
  try {
    for (const t of wanted) await build(t, staging);
    cpSync(path.join(staging, 'build', 'Release', TRACKER), path.join(out, TRACKER));
    strip(path.join(out, TRACKER));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`@shmbridge/core prepack: ${err.message}`);
  process.exit(1);
});
