import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What a sandbox sees of the host: the system's /usr (read-only), the few
 * top-level links into it, the dynamic linker's cache, and the directories of
 * the interpreters in use. Never home directories, the service's own files or
 * DATA_DIR (an environment's directory is added read-only, and only when a run
 * selects it).
 */
export interface SandboxLayout {
  /** Host paths bound read-only at the same place. */
  readOnlyPaths: string[];
  /** Top-level symlinks such as /bin -> usr/bin (merged-/usr systems). */
  symlinks: Array<{ target: string; path: string }>;
}

const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
const SYSTEM_FILES = ['/etc/ld.so.cache', '/etc/localtime'];

/** Reads the host's layout once; `interpreters` are the binaries runs execute. */
export function readSandboxLayout(interpreters: string[]): SandboxLayout {
  const readOnlyPaths = ['/usr'];
  const symlinks: SandboxLayout['symlinks'] = [];
  for (const path of TOP_LEVEL) {
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) symlinks.push({ target: readlinkSync(path), path });
    else readOnlyPaths.push(path);
  }
  for (const file of SYSTEM_FILES) if (existsSync(file)) readOnlyPaths.push(file);
  for (const interpreter of interpreters) {
    const prefix = dirname(dirname(realpathSync(interpreter)));
    if (!readOnlyPaths.some((path) => prefix === path || prefix.startsWith(`${path}/`))) readOnlyPaths.push(prefix);
  }
  return { readOnlyPaths, symlinks };
}

export interface SandboxArgs {
  layout: SandboxLayout;
  /** Extra read-only binds for this run (a selected environment). */
  extraReadOnly?: string[];
  tmpfsBytes: number;
  /**
   * Capabilities the command keeps inside the sandbox's own user namespace
   * (never the host's): a zygote's CAP_SYS_ADMIN and CAP_NET_ADMIN, to make its
   * sandboxes' namespaces, mounts and loopback device.
   */
  capabilities?: string[];
  /**
   * Host directories bound writable at `target` (a deployed app's files and
   * the directory of the socket it is reached through); the rest stays
   * read-only. The first is the working directory when given.
   */
  writable?: Array<{ source: string; target: string }>;
  /** Host files bound read-only at `target` (a deployed app's /etc/resolv.conf when it may reach the internet). */
  readOnlyFiles?: Array<{ source: string; target: string }>;
  /**
   * Descriptors for a set-up between the namespaces and the command: bubblewrap
   * writes its child's pid (JSON) to `info`, then waits until `block` can be
   * read before it runs the command (a deployed app's network link is attached meanwhile).
   */
  startFds?: { info: number; block: number };
  /** Variables set besides the sandbox's own (PATH, HOME, …), after them. */
  env?: Record<string, string>;
  /** The command run inside, as pid 2 of the new pid namespace. */
  command: string[];
}

/** The bubblewrap command line. Pure, so it is unit-tested. */
export function bwrapArgs({ layout, extraReadOnly = [], tmpfsBytes, capabilities = [], writable = [], readOnlyFiles = [], startFds, env = {}, command }: SandboxArgs): string[] {
  const args = [
    // New user, pid, net, ipc, uts and cgroup namespaces; no network device but lo.
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    '--uid', '65534',
    '--gid', '65534',
  ];
  for (const capability of capabilities) args.push('--cap-add', capability);
  for (const path of layout.readOnlyPaths) args.push('--ro-bind', path, path);
  for (const { target, path } of layout.symlinks) args.push('--symlink', target, path);
  args.push(
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(tmpfsBytes), '--tmpfs', '/tmp',
    '--size', String(tmpfsBytes), '--tmpfs', '/work',
    // POSIX shared memory (multiprocessing) gets its own bounded tmpfs ...
    '--size', String(tmpfsBytes), '--tmpfs', '/dev/shm',
  );
  // After the tmpfs mounts, so an environment under a temporary directory is not hidden by /tmp.
  for (const path of extraReadOnly) args.push('--ro-bind', path, path);
  for (const { source, target } of writable) args.push('--bind', source, target);
  for (const { source, target } of readOnlyFiles) args.push('--ro-bind', source, target);
  args.push(
    // ... and nothing else is writable: bwrap builds / (and the directories it
    // creates, such as /etc) and /dev on tmpfs mounts without a size limit, where
    // a program could otherwise fill the host's memory. Last: the mount points
    // above must exist first.
    '--remount-ro', '/dev',
    '--remount-ro', '/',
    '--chdir', writable[0]?.target ?? '/work',
    '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'TMPDIR', '/tmp',
    '--setenv', 'LANG', 'C.UTF-8',
    '--setenv', 'PYTHONIOENCODING', 'utf-8',
    '--setenv', 'PYTHONDONTWRITEBYTECODE', '1',
    // Output reaches the caller as it is printed (streaming), not at exit.
    '--setenv', 'PYTHONUNBUFFERED', '1',
  );
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  if (startFds) args.push('--info-fd', String(startFds.info), '--block-fd', String(startFds.block));
  args.push('--', ...command);
  return args;
}
