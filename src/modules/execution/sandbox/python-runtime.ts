import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { marshal, Marshallable } from './marshal';

/**
 * The Python that runs inside sandboxes: the files in ./runtime (copied beside
 * the compiled JavaScript by `npm run build`), read once when this module loads.
 * A sandbox sees nothing of the host's files, so its interpreter starts with
 * `-c BOOTSTRAP` and reads the rest, a runtime, on fd 3 ahead of its job (see
 * runtime/bootstrap.py): the launcher for a sandbox bubblewrap starts, the
 * zygote for a zygote. A runtime is either sources (any Python 3 can load it:
 * an environment's interpreter, SANDBOX=none) or code objects compiled by
 * PYTHON_BIN (compileRuntime), which spare every sandbox start ~1 ms.
 */
const DIRECTORY = join(__dirname, 'runtime');

function read(name: string): string {
  return readFileSync(join(DIRECTORY, name), 'utf8');
}

/** What both sides rely on (runtime/protocol.json, which documents it). */
export interface Protocol {
  fds: { stdin: number; stdout: number; stderr: number; job: number; report: number };
  marks: { ready: string; start: string; memory: string };
  frame_header: { bytes: number; id_at: number; length_at: number };
  frame_kinds: { start: string; data: string; end: string; kill: string; ready: string; gone: string };
}

const protocolJson = JSON.parse(read('protocol.json')) as Marshallable;
export const PROTOCOL = protocolJson as unknown as Protocol;

/** Run by every sandbox's interpreter as `-c`: loads the runtime from fd 3 and runs it. */
export const BOOTSTRAP = read('bootstrap.py');

/** The modules of each program, in the order they load (each imports only those before it). */
const MODULES = {
  launcher: ['program', 'launcher'],
  zygote: ['program', 'probe', 'relay', 'zygote'],
};

/** A runtime of sources, framed as bootstrap.py reads it: version 0 (sources), length, then the marshalled bundle. */
function sourceRuntime(main: keyof typeof MODULES): Buffer {
  const body = marshal({ main, protocol: protocolJson, modules: MODULES[main].map((name) => [name, read(`${name}.py`)]) });
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0, 0);
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

export const LAUNCHER_SOURCES = sourceRuntime('launcher');
export const ZYGOTE_SOURCES = sourceRuntime('zygote');

const COMPILER = read('compiler.py');

/**
 * A runtime compiled by `python` itself (the marshal format of code is its
 * own; runtime/compiler.py). Only the configured interpreter runs on the host
 * this way, never an environment's.
 */
export function compileRuntime(python: string, sources: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', COMPILER], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(err.trim().slice(-300) || `exit ${code}`))));
    child.stdin.end(sources);
  });
}
