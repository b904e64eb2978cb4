import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';

export const MAX_FILES = 500;
export const MAX_TOTAL_BYTES = 20 * 1024 * 1024;
export const MAX_PATH_LENGTH = 255;
/** Relative paths of plain names: letters, digits, `._-` and `/` between them; no `..`, no hidden escapes. */
const SAFE_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

export type Runtime = 'nodejs' | 'python' | 'manifest';

export interface AppFile {
  path: string;
  content: string;
}

/** What a version runs: how to build and start it, where it listens inside, where its health is asked. */
export interface RunSpec {
  build_command: string | null;
  start_command: string;
  port: number;
  health_check_path: string;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HEALTH_PATH = '/';

/** Checks names and sizes; 400 naming what is wrong. */
export function checkFiles(files: AppFile[]): void {
  const bad = (message: string) => invalid('files', message);
  if (files.length === 0) throw bad('at least one file is needed');
  if (files.length > MAX_FILES) throw bad(`at most ${MAX_FILES} files`);
  const seen = new Set<string>();
  let total = 0;
  for (const file of files) {
    if (file.path.length > MAX_PATH_LENGTH || !SAFE_PATH.test(file.path)) throw bad(`"${file.path.slice(0, 80)}" is not a relative path of letters, digits, ., _, - and /`);
    if (seen.has(file.path)) throw bad(`"${file.path}" is given twice`);
    seen.add(file.path);
    total += Buffer.byteLength(file.content);
  }
  if (total > MAX_TOTAL_BYTES) throw bad(`the files add up to more than ${MAX_TOTAL_BYTES / 1024 / 1024} MB`);
}

/** 400 VALIDATION_ERROR naming the field, as the request validation answers. */
export function invalid(field: string, message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { [field]: [message] } });
}

/** The runtime the files imply when none is given. */
export function inferRuntime(files: AppFile[]): Runtime {
  const paths = new Set(files.map((file) => file.path));
  if (paths.has('coderunner.json')) return 'manifest';
  if (paths.has('package.json') || files.some((file) => file.path.endsWith('.js') || file.path.endsWith('.mjs'))) return 'nodejs';
  return 'python';
}

/**
 * How a version starts: the config's commands first; else a manifest's
 * (`coderunner.json`: build_command?, start_command, port?, health_check_path?);
 * else Node's `npm start` when package.json has a start script, or `node`
 * of index.js / server.js / app.js; Python's `python3` of app.py / main.py.
 * 400 when nothing says how to start.
 */
export function runSpecOf(runtime: Runtime, files: AppFile[], config: { build_command?: string | null; start_command?: string | null; port?: number | null; health_check_path?: string | null }): RunSpec {
  const byPath = new Map(files.map((file) => [file.path, file.content]));
  let manifest: Partial<RunSpec> = {};
  if (runtime === 'manifest') {
    try {
      manifest = JSON.parse(byPath.get('coderunner.json') ?? 'null') ?? {};
    } catch {
      throw invalid('files', 'coderunner.json is not valid JSON');
    }
    if (typeof manifest !== 'object' || Array.isArray(manifest)) manifest = {};
  }
  const start = config.start_command ?? (typeof manifest.start_command === 'string' ? manifest.start_command : null) ?? defaultStart(runtime, byPath);
  if (!start) {
    const hint = runtime === 'python' ? 'app.py or main.py' : 'a start script in package.json, or index.js / server.js / app.js';
    throw invalid('config.start_command', `say how to start the app: a start_command, ${hint}${runtime === 'manifest' ? ', or start_command in coderunner.json' : ''}`);
  }
  const port = config.port ?? (Number.isInteger(manifest.port) ? manifest.port! : DEFAULT_PORT);
  const health = config.health_check_path ?? (typeof manifest.health_check_path === 'string' ? manifest.health_check_path : DEFAULT_HEALTH_PATH);
  const build = config.build_command ?? (typeof manifest.build_command === 'string' ? manifest.build_command : null);
  return { build_command: build, start_command: start, port, health_check_path: health };
}

function defaultStart(runtime: Runtime, byPath: Map<string, string>): string | null {
  if (runtime === 'python') {
    for (const file of ['app.py', 'main.py']) if (byPath.has(file)) return `python3 ${file}`;
    return null;
  }
  const pkg = byPath.get('package.json');
  if (pkg) {
    try {
      if (typeof (JSON.parse(pkg) as { scripts?: { start?: unknown } })?.scripts?.start === 'string') return 'npm start';
    } catch {
      // An invalid package.json: npm would refuse it too; fall back to the plain files.
    }
  }
  for (const file of ['index.js', 'server.js', 'app.js']) if (byPath.has(file)) return `node ${file}`;
  return null;
}

/** Writes a version's files into `dir` (created, emptied first). */
export function writeFiles(dir: string, files: AppFile[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of files) {
    const path = join(dir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
}

/** A version's files as written, for a new version made from it. */
export function readFiles(dir: string, manifest: Array<{ path: string }>): AppFile[] {
  return manifest.filter((file) => existsSync(join(dir, file.path))).map((file) => ({ path: file.path, content: readFileSync(join(dir, file.path), 'utf8') }));
}
