#!/usr/bin/env node
// Install step of @shmbridge/core: use a prebuilt binary when one matches this
// Node, else compile with node-gyp. Nothing is downloaded: node-gyp is pointed
// at the headers of the running Node when they are installed beside it
// (distro and official tarball layouts), or at npm's configured nodedir.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

// A local build older than its sources (after a pull) is rebuilt, not reused.
function localBuildStale() {
  const binary = path.join(root, 'build', 'Release', 'shmbridge.node');
  if (!existsSync(binary)) return false;
  const sources = ['binding.gyp', ...readdirSync(path.join(root, 'native')).map((f) => path.join('native', f))];
  const built = statSync(binary).mtimeMs;
  return sources.some((f) => statSync(path.join(root, f)).mtimeMs > built);
}

function prebuiltLoads() {
  try {
    require('node-gyp-build')(root);
    return existsSync(path.join(root, 'build', 'Release', 'shmbridge-tracker')) ||
      existsSync(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'shmbridge-tracker'));
  } catch {
    return false;
  }
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

if (process.env.SHMBRIDGE_FORCE_BUILD || localBuildStale() || !prebuiltLoads()) {
  const [cmd, ...args] = nodeGypCommand();
  const r = spawnSync(cmd, [...args, 'rebuild', ...localHeaders()], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      '\n@shmbridge/core: building the native addon failed.\n' +
        'It needs a C++17 compiler, make, python3 and the headers of this Node ' +
        `(${process.version}).\nOn Debian/Ubuntu: apt-get install g++ make python3; ` +
        'then point npm at the headers if they are not beside node: npm config set nodedir <prefix>.\n',
    );
    process.exit(r.status ?? 1);
  }
}
