import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { python3, runPython } from '@shmbridge/testkit';
import { tsxCli } from './run-example.js';

describe('tensor examples', () => {
  it('notebook.py attaches to a running Node process\'s tensor by name, and its write shows up in Node', async () => {
    const holder = spawn(process.execPath, [tsxCli, 'hold-tensor.ts'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    holder.stdout.setEncoding('utf8');
    const name = await new Promise<string>((resolve, reject) => {
      holder.stdout.on('data', (d: string) => {
        out += d;
        const m = /tensor (psm_[0-9a-f]{8})/.exec(out);
        if (m) resolve(m[1]!);
      });
      holder.on('exit', (c) => reject(new Error(`hold-tensor exited (${c}): ${out}`)));
    });
    const nb = await runPython(python3(), `import runpy, sys; sys.argv = ['notebook.py', ${JSON.stringify(name)}]; runpy.run_path(${JSON.stringify(fileURLToPath(new URL('../notebook.py', import.meta.url)))}, run_name='__main__')`);
    expect(nb.stdout.trim()).toBe('notebook: float64 (3, 4), sum=33.0, row 1=[2.0, 2.5, 3.0, 3.5]');
    holder.stdin.write('\n');
    const code = await new Promise((resolve) => holder.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toContain('node: the notebook left row 0 = [-1, -1, -1, -1]');
  });
});
