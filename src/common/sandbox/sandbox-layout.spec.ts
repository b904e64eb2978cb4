import { bwrapArgs, SandboxLayout } from './sandbox-layout';

const layout: SandboxLayout = { readOnlyPaths: ['/usr', '/etc/ld.so.cache'], symlinks: [{ target: 'usr/bin', path: '/bin' }] };

function pairs(args: string[], flag: string): string[][] {
  const found: string[][] = [];
  args.forEach((arg, i) => {
    if (arg === flag) found.push(args.slice(i + 1, i + 3));
  });
  return found;
}

describe('bwrapArgs', () => {
  const args = bwrapArgs({ layout, extraReadOnly: ['/data/environments/e1'], tmpfsBytes: 1024, command: ['/usr/bin/python3', '-c', 'x'] });

  it('unshares every namespace, forbids nested user namespaces and dies with its parent', () => {
    for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--clearenv']) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain('--share-net');
  });

  it('runs as the unprivileged uid and gid 65534', () => {
    expect(args.slice(args.indexOf('--uid'), args.indexOf('--uid') + 2)).toEqual(['--uid', '65534']);
    expect(args.slice(args.indexOf('--gid'), args.indexOf('--gid') + 2)).toEqual(['--gid', '65534']);
  });

  it('binds only the layout and the extra paths, read-only; nothing writable from the host', () => {
    expect(pairs(args, '--ro-bind')).toEqual([
      ['/usr', '/usr'],
      ['/etc/ld.so.cache', '/etc/ld.so.cache'],
      ['/data/environments/e1', '/data/environments/e1'],
    ]);
    expect(args).not.toContain('--bind');
    expect(args).not.toContain('--dev-bind');
  });

  it('gives /tmp, /work and /dev/shm their own size-limited tmpfs and ends with the command', () => {
    expect(pairs(args, '--tmpfs').map(([path]) => path)).toEqual(['/tmp', '/work', '/dev/shm']);
    expect(pairs(args, '--size').map(([size]) => size)).toEqual(['1024', '1024', '1024']);
    expect(args.slice(-4)).toEqual(['--', '/usr/bin/python3', '-c', 'x']);
  });

  it('leaves / and /dev read-only (their tmpfs mounts have no size limit), after every mount point is made', () => {
    expect(pairs(args, '--remount-ro').map(([path]) => path)).toEqual(['/dev', '/']);
    const lastMount = Math.max(...['--tmpfs', '--ro-bind', '--symlink', '--proc', '--dev'].map((flag) => args.lastIndexOf(flag)));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(lastMount);
  });
});

describe('bwrapArgs for a zygote', () => {
  const args = bwrapArgs({ layout, tmpfsBytes: 1024, capabilities: ['CAP_SYS_ADMIN'], command: ['python3'] });
  const plain = bwrapArgs({ layout, tmpfsBytes: 1024, command: ['python3'] });

  it('keeps only the capabilities asked for, and still forbids nested user namespaces', () => {
    expect(pairs(args, '--cap-add').map(([capability]) => capability)).toEqual(['CAP_SYS_ADMIN']);
    expect(plain).not.toContain('--cap-add');
    expect(args).toContain('--disable-userns');
  });
});

describe('bwrapArgs for a deployed app', () => {
  const args = bwrapArgs({
    layout,
    tmpfsBytes: 1024,
    writable: [{ source: '/data/deployments/d1/app', target: '/app' }, { source: '/data/deployments/d1/run', target: '/run/app' }],
    env: { PORT: '8080', NODE_ENV: 'production' },
    command: ['node', 'server.js'],
  });

  it('binds only the given directories writable, after the tmpfs mounts and before / becomes read-only', () => {
    expect(pairs(args, '--bind')).toEqual([
      ['/data/deployments/d1/app', '/app'],
      ['/data/deployments/d1/run', '/run/app'],
    ]);
    expect(args.lastIndexOf('--bind')).toBeGreaterThan(args.lastIndexOf('--tmpfs'));
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.lastIndexOf('--bind'));
  });

  it('binds read-only files where asked and waits on the start descriptors before the command', () => {
    const linked = bwrapArgs({ layout, tmpfsBytes: 1024, readOnlyFiles: [{ source: '/data/d1/resolv.conf', target: '/etc/resolv.conf' }], startFds: { info: 3, block: 4 }, command: ['true'] });
    expect(pairs(linked, '--ro-bind')).toContainEqual(['/data/d1/resolv.conf', '/etc/resolv.conf']);
    expect(linked.slice(-6)).toEqual(['--info-fd', '3', '--block-fd', '4', '--', 'true']);
  });

  it('starts in the first writable directory with the given variables after the sandbox\'s own, and still in its own network namespace', () => {
    expect(args.slice(args.indexOf('--chdir'), args.indexOf('--chdir') + 2)).toEqual(['--chdir', '/app']);
    const setenv = pairs(args, '--setenv');
    expect(setenv.slice(-2)).toEqual([['PORT', '8080'], ['NODE_ENV', 'production']]);
    expect(args.indexOf('--clearenv')).toBeLessThan(args.indexOf('--setenv'));
    expect(args).toContain('--unshare-all');
    expect(args.slice(-3)).toEqual(['--', 'node', 'server.js']);
  });
});
