/**
 * A Node service runs a SharedMemoryManager; Python workers use it.
 *
 *   pnpm exec tsx examples/manager-service.ts
 *
 * The service starts a manager on a Unix socket, two python3 workers connect
 * with CPython's own `SharedMemoryManager(address, authkey).connect()` and make
 * blocks through it, and the service's shutdown unlinks every one of them.
 * Had the service been killed instead, the manager would have done the same.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SharedMemoryManager } from '@shmbridge/python-compat';
import { python, pythonEnv } from './python.js';

const worker = fileURLToPath(new URL('./python/manager_worker.py', import.meta.url));

await using smm = await SharedMemoryManager.start(); // a socket in a private 0700 directory, a random authkey
console.log(`node:   manager listening on ${smm.address}`);

const run = (id: number) =>
  new Promise<void>((resolve, reject) => {
    const p = spawn(python, [worker, String(smm.address), smm.authkey.toString('hex'), String(id)], { stdio: 'inherit', env: pythonEnv });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${id} exited with ${code}`))));
  });
await Promise.all([run(1), run(2)]);

const segments = await smm.listSegments();
console.log(`node:   the manager tracks ${segments.length} blocks: ${segments.join(', ')}`);
await smm.shutdown();
console.log(`node:   after shutdown, blocks left in /dev/shm: ${segments.filter((n) => existsSync(`/dev/shm/${n}`)).length}`);
