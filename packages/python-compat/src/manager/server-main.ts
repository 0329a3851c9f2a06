/**
 * The manager process (`SharedMemoryManager.start()` spawns it).
 *
 * Its configuration arrives as the first line on stdin — never in argv, where
 * `ps` would show the authkey — and stdin then stays open as the owner's
 * lifeline: EOF means the process that started us is gone (however it ended,
 * SIGKILL included), so every tracked block is unlinked and we exit. This is
 * the crash-safety CPython's manager lacks. It reports its bound address as
 * one JSON line on stdout.
 */
import { createInterface } from 'node:readline';
import { type Address } from './connection.js';
import { privateSocket } from './address.js';
import { ManagerServer } from './server.js';

interface Config {
  address: Address | null;
  authkey: string; // hex
}

async function main(): Promise<void> {
  // A Ctrl-C meant for the owner's terminal must not skip the cleanup.
  process.on('SIGINT', () => {});
  const lines = createInterface({ input: process.stdin });
  const first: string = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    lines.once('close', () => reject(new Error('no configuration on stdin')));
  });
  const config = JSON.parse(first) as Config;
  const socket = config.address === null ? privateSocket() : undefined;
  let finished = false;
  const finish = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    server.unlinkAll();
    await server.close();
    socket?.release();
    process.exit(0);
  };
  const server = new ManagerServer({
    address: socket?.path ?? config.address!,
    authkey: Buffer.from(config.authkey, 'hex'),
    onShutdown: () => void finish(),
  });
  const address = await server.listen();
  process.stdout.write(`${JSON.stringify({ address })}\n`);
  lines.on('close', () => void finish()); // the owner is gone
}

main().catch((err: Error) => {
  process.stderr.write(`shmbridge manager: ${err.message}\n`);
  process.exit(1);
});
