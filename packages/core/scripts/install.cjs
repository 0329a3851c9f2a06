#!/usr/bin/env node
// Install step of @shmbridge/core. Where a prebuilt binary matches this Node
// (prebuilds/<platform>-<arch>/node.abi<N>.glibc.node, picked by
// node-gyp-build exactly as the loader in src/native.ts picks it) and it loads,
// and the tracker beside it runs, nothing is built: no compiler is needed.
// Otherwise the addon and the tracker are compiled with node-gyp. Nothing is
// downloaded: node-gyp is pointed at the headers of the running Node when
// they are installed beside it (distro and official tarball layouts), or at
// npm's configured nodedir.
'use strict';
const { spawnSync } = require('node:child_process');
const { chmodSync, existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const TRACKER = 'shmbridge-tracker';

// A local build older than its sources (after a pull) is rebuilt, not reused.
function localBuildStale() {
  const binary = path.join(root, 'build', 'Release', 'shmbridge.node');
  if (!existsSync(binary)) return false;
  const sources = ['binding.gyp', ...readdirSync(path.join(root, 'native')).map((f) => path.join('native', f))];
  const built = statSync(binary).mtimeMs;
  return sources.some((f) => statSync(path.join(root, f)).mtimeMs > built);
}

/** Why no usable binary is here (undefined: the one node-gyp-build picks loads, and its tracker runs). */
function whyNoBinary() {
  let addon;
  try {
    addon = require('node-gyp-build').resolve(root);
    require(addon);
  } catch (err) {
    return err.message.split('\n')[0];
  }
  const tracker = path.join(path.dirname(addon), TRACKER);
  // pnpm pack stores every file but the package's bins as 0644.
  if (existsSync(tracker)) chmodSync(tracker, 0o755);
  // With stdin at EOF the tracker has nothing to track and exits 0: proof that it runs here.
  const r = spawnSync(tracker, ['install-check'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.error || r.status !== 0) return `${tracker} does not run here: ${r.error?.message ?? r.stderr.trim()}`;
  return undefined;
}

function nodeGypCommand() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

function localHeaders() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(process.execPath, '..', '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function prebuildsHere() {
  const dir = path.join(root, 'prebuilds');
  if (!existsSync(dir)) return 'none';
  return readdirSync(dir).flatMap((t) => readdirSync(path.join(dir, t)).filter((f) => f.endsWith('.node')).map((f) => `${t}/${f}`)).join(', ') || 'none';
}

const forced = process.env.SHMBRIDGE_FORCE_BUILD || process.env.npm_config_build_from_source === 'true';
const reason = forced ? 'a build from source was asked for' : localBuildStale() ? 'the local build is older than its sources' : whyNoBinary();
if (reason) {
  const [cmd, ...args] = nodeGypCommand();
  const r = spawnSync(cmd, [...args, 'rebuild', ...localHeaders()], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      '\n@shmbridge/core: building the native addon failed.\n' +
        `No prebuilt binary could be used for Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}): ${reason}.\n` +
        `Prebuilt binaries in this package: ${prebuildsHere()}.\n` +
        'Building needs a C++17 compiler, make, python3 and the headers of this Node.\n' +
        'On Debian/Ubuntu: apt-get install g++ make python3; ' +
        'then point npm at the headers if they are not beside node: npm config set nodedir <prefix>.\n',
    );
    process.exit(r.status ?? 1);
  }
}
