/**
 * Every ```ts and ```python snippet of README.md runs here as pasted, the way
 * the README says to run them: TypeScript saved in examples/ and run from the
 * repository root with tsx (against the built packages), Python with the
 * helper on PYTHONPATH. Placeholder names ("psm_…") are replaced by real
 * blocks of the kind the call expects, made here — or, for a snippet marked
 * `<!-- readme-test: holds a block for the next snippet -->`, by the name
 * the previous TS snippet printed. Each snippet must exit 0 with an empty
 * stderr (a block left behind makes the shmbridge tracker, or CPython's
 * resource tracker, say so on stderr); every block Node handed to Python must
 * still be there afterwards and unlink from Node; every block Python hands
 * to Node (a name it prints) must exist, and is unlinked here, as Node would.
 * A Python snippet that names its file on its first line (`# model.py: …`)
 * is a module, not a script: it is saved under that name, and the TS
 * snippets that use the file run from the folder that holds it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { shareTable } from '@shmbridge/arrow';
import { SharedMemory, Tensor, unlinkBlock } from '@shmbridge/core';
import { ShareableList, SharedMemoryManager, py } from '@shmbridge/python-compat';
import { entries, finished, pythons, python3, runPython, shmExists, venvPython, type Python } from '@shmbridge/testkit';
import { tsxCli } from './run-example.js';

const examplesDir = fileURLToPath(new URL('..', import.meta.url));
const root = dirname(examplesDir);
const HOLDS = 'readme-test: holds a block for the next snippet';

interface Snippet {
  lang: 'ts' | 'python';
  code: string;
  label: string;
  holdsForNext: boolean;
  /** A Python module's file name (`# model.py: …` on its first line). */
  file?: string;
}

function readmeSnippets(): Snippet[] {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const out: Snippet[] = [];
  let heading = '(top)';
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,4} /.test(line)) heading = line.replace(/^#+ /, '');
    const fence = /^```(\w*)$/.exec(line);
    if (!fence) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    const lang = fence[1];
    if (lang !== 'ts' && lang !== 'python') continue;
    const key = `${heading} ${lang}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const before = lines[i - body.length - 2] ?? '';
    const file = lang === 'python' ? /^# (\w+\.py):/.exec(body[0] ?? '')?.[1] : undefined;
    out.push({ lang, code: body.join('\n') + '\n', label: `"${heading}" ${lang} #${seen.get(key)}`, holdsForNext: before.includes(HOLDS), file });
  }
  return out;
}

const snippets = readmeSnippets();
let dir: string;

beforeAll(() => {
  // The snippets import the built packages: fail now, clearly, if dist/ is stale.
  void [entries.core, entries.pythonCompat, entries.arrow];
  dir = mkdtempSync(join(examplesDir, '.readme-'));
  for (const s of snippets) if (s.file) writeFileSync(join(dir, s.file), s.code);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Starts a TS snippet as the README says: saved in examples/, run from the root with tsx. */
function startTs(code: string) {
  const file = join(dir, `snippet-${++fileNo}.ts`);
  writeFileSync(file, code);
  // From the root, as the README says; from beside the module files it names, if any.
  const usesFile = snippets.some((s) => s.file && code.includes(`'${s.file}'`));
  // The project's virtualenv first on PATH: the `python3` a snippet's worker starts is the one with numpy, as for a user who activated it.
  const env = { ...process.env, PATH: `${dirname(venvPython)}:${process.env.PATH ?? ''}` };
  return spawn(process.execPath, [tsxCli, usesFile ? file : relative(root, file)], { cwd: usesFile ? dir : root, env, stdio: ['pipe', 'pipe', 'pipe'] });
}

// --- Python snippets: placeholders, fixtures, interpreters -----------------

type Kind = 'raw' | 'list' | 'tensor' | 'table';
const KIND_OF: Record<string, Kind> = {
  attach: 'raw', SharedMemory: 'raw', shareable_list: 'list', ShareableList: 'list', ndarray: 'tensor', tensor: 'tensor', table: 'table',
};
const PLACEHOLDER = /(\w+)\((?:name=)?"(psm_[^"]*)"/g;
const MANAGER_ADDRESS = '("127.0.0.1", 50000)';

/** A block of the kind a placeholder's call expects, as Node would have made it. */
function makeFixture(kind: Kind, interpreter: Python): { name: string; close(): void } {
  switch (kind) {
    case 'raw': {
      const shm = SharedMemory.create(1024);
      shm.buf.write('hello');
      return { name: shm.name, close: () => shm.close() };
    }
    case 'list': {
      // CPython 3.8 reads only its own list layout (README: { layout: 'cpython-3.8' })
      const layout = interpreter.version[1] === 8 ? 'cpython-3.8' : 'cpython-3.9';
      const sl = new ShareableList(['howdy', py.bytes('HoWdY'), -273.154, 100, null, true, 42], { layout });
      return { name: sl.shm.name, close: () => sl.close() };
    }
    case 'tensor': {
      const t = Tensor.create({ dtype: 'float32', shape: [2, 3] });
      t.data.set([1, 2, 3, 4, 5, 6]);
      return { name: t.shm.name, close: () => t.close() };
    }
    case 'table': {
      const { shm } = shareTable(tableFromArrays({ city: ['Lyon', 'Oslo', 'Lyon'], amount: Float64Array.from([12.5, 40, 7.5]) }));
      return { name: shm.name, close: () => shm.close() };
    }
  }
}

/** Interpreters a snippet runs on: every CPython 3.8–3.13 if it needs only the standard library and the helper. */
function interpretersFor(code: string): Python[] {
  // numpy, torch, pyarrow, pandas: imported, or used through the helper's ndarray/tensor/share/table/share_table
  if (/^\s*(import|from)\s+.*\b(numpy|torch|pyarrow|pandas)\b|\.(ndarray|tensor|share|table|share_table)\(/m.test(code)) return [python3()];
  const byVersion = new Map(pythons().map((p) => [p.version.join('.'), p]));
  const all = [...byVersion.values()];
  for (const minor of [8, 9, 10, 11, 12, 13]) {
    if (!all.some((p) => p.version[1] === minor)) throw new Error(`README Python snippets run on CPython 3.8–3.13; 3.${minor} is missing (pyenv install 3.${minor})`);
  }
  return all;
}

/**
 * Runs a Python snippet with its placeholders replaced (`given` maps a
 * placeholder to an existing block; others get a fixture of their kind),
 * then checks what it did to the blocks.
 */
async function runPythonSnippet(s: Snippet, interpreter: Python, given: Record<string, string> = {}): Promise<string> {
  const fixtures = new Map<string, { name: string; close(): void }>();
  let manager: SharedMemoryManager | undefined;
  try {
    let code = s.code.replace(PLACEHOLDER, (whole, fn: string, placeholder: string) => {
      if (given[placeholder]) return whole.replace(placeholder, given[placeholder]!);
      const kind = KIND_OF[fn];
      if (!kind) throw new Error(`${s.label}: no fixture for a "psm_…" passed to ${fn}(); teach readme.test.ts which block it takes`);
      const key = `${kind} ${placeholder}`;
      if (!fixtures.has(key)) fixtures.set(key, makeFixture(kind, interpreter));
      return whole.replace(placeholder, fixtures.get(key)!.name);
    });
    if (code.includes(MANAGER_ADDRESS)) {
      manager = await SharedMemoryManager.start({ address: ['127.0.0.1', 0], authkey: 'secret' });
      code = code.replace(MANAGER_ADDRESS, `("127.0.0.1", ${(manager.address as [string, number])[1]})`);
    }
    const r = await runPython(interpreter, code, { allowFailure: true });
    expect({ interpreter: interpreter.label, status: r.status, stderr: r.stderr }).toEqual({ interpreter: interpreter.label, status: 0, stderr: '' });
    // Node's blocks survived that Python's exit (runPython returns once its resource tracker has exited too).
    const ours = [...fixtures.values()].map((f) => f.name).concat(Object.values(given));
    for (const name of ours) expect({ interpreter: interpreter.label, name, exists: shmExists(name) }).toEqual({ interpreter: interpreter.label, name, exists: true });
    // Blocks handed to Node (track=False): there, and Node's to unlink.
    for (const name of new Set(r.stdout.match(/psm_[0-9a-f]{8}/g) ?? [])) {
      if (ours.includes(name)) continue;
      expect({ handedOver: name, exists: shmExists(name) }).toEqual({ handedOver: name, exists: true });
      unlinkBlock(name);
    }
    if (manager) {
      const tracked = await manager.listSegments();
      expect(tracked).toHaveLength(1);
      await manager.shutdown();
      expect(shmExists(tracked[0]!)).toBe(false);
    }
    return r.stdout;
  } finally {
    await manager?.shutdown();
    for (const f of fixtures.values()) {
      f.close();
      unlinkBlock(f.name); // throws ENOENT if Python removed it
    }
  }
}

describe('README.md snippets, pasted as is', () => {
  it('has the snippets this test knows how to run (and each is run below)', () => {
    expect(snippets.filter((s) => s.lang === 'ts').length).toBeGreaterThanOrEqual(7);
    expect(snippets.filter((s) => s.lang === 'python').length).toBeGreaterThanOrEqual(7);
    // A fence in another spelling (```typescript, ```py, ```js) would be skipped silently.
    const languages = new Set([...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^```(\w+)$/gm)].map((m) => m[1]));
    expect([...languages].sort()).toEqual(['python', 'sh', 'ts']);
    for (const [i, s] of snippets.entries()) {
      if (s.holdsForNext) expect([s.lang, snippets[i + 1]?.lang]).toEqual(['ts', 'python']);
    }
  });

  for (const [i, s] of snippets.entries()) {
    const partner = i > 0 && snippets[i - 1]!.holdsForNext ? snippets[i - 1] : undefined;
    if (partner) continue; // run with the snippet that holds its block
    if (s.lang === 'ts' && s.holdsForNext) {
      const next = snippets[i + 1]!;
      it.concurrent(`${s.label} keeps its block while ${next.label} attaches on every CPython, then unlinks it`, async () => {
        const child = startTs(s.code);
        const result = finished(child, 120_000);
        let out = '';
        const name = await new Promise<string>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => {
            out += d;
            const m = /psm_[0-9a-f]{8}/.exec(out);
            if (m) resolve(m[0]);
          });
          void result.then((r) => reject(new Error(`${s.label} exited (${r.status}) before printing a name:\n${r.stderr}`)));
        });
        try {
          const placeholder = new RegExp(PLACEHOLDER.source).exec(next.code)?.[2];
          expect(placeholder).toBeDefined();
          for (const interpreter of interpretersFor(next.code)) {
            const stdout = await runPythonSnippet(next, interpreter, { [placeholder!]: name });
            expect(stdout).toContain("b'hello'");
          }
        } finally {
          child.stdin!.write('\n');
        }
        const r = await result;
        // Exit 0 and no stderr: its own unlink() found the block (no ENOENT), and its tracker had nothing to clean.
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
        expect(shmExists(name)).toBe(false);
      });
    } else if (s.lang === 'ts') {
      it.concurrent(`${s.label} runs (pnpm exec tsx examples/…) and leaves nothing behind`, async () => {
        const r = await finished(startTs(s.code), 120_000);
        // What the modules it uses print() reaches Node's stderr, as the README says; nothing else may.
        const printed = snippets.filter((m) => m.file && s.code.includes(`'${m.file}'`)).flatMap((m) => [...m.code.matchAll(/print\("([^"]*)"\)/g)].map((x) => x[1]!));
        const stderr = r.stderr.split('\n').filter((l) => l && !printed.includes(l)).join('\n');
        expect({ status: r.status, stderr }).toEqual({ status: 0, stderr: '' });
      });
    } else if (s.file) {
      it(`${s.label} is the module ${s.file} that the TS snippets after it use`, () => {
        expect(snippets.slice(i + 1).some((t) => t.lang === 'ts' && t.code.includes(`'${s.file}'`))).toBe(true);
      });
    } else {
      it.concurrent(`${s.label} runs against Node's blocks and leaves them intact`, async () => {
        for (const interpreter of interpretersFor(s.code)) await runPythonSnippet(s, interpreter);
      });
    }
  }
});
