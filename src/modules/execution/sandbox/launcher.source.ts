/**
 * The launcher: a small Python program that is the first process inside every
 * sandbox bubblewrap starts (and the one SANDBOX=none runs). It forks the
 * program's process at once, which waits for one job on fd 3 (so a sandbox can
 * be started ahead of time and kept warm), creates the job's files inside the
 * sandbox's own tmpfs (the host never writes through a path the code could
 * influence), sets its resource limits and runs it. The launcher waits for it
 * and reports the exit status and rusage as JSON on fd 4. When the launcher
 * exits, bubblewrap's pid 1 exits and the kernel kills everything left in the
 * pid namespace: daemons included.
 *
 * Python runs are forked from this already started interpreter (no second
 * interpreter start); JavaScript runs exec node. A zygote's sandboxes
 * (zygote.source.ts) run the same program's process, without this launcher.
 */
export const LAUNCHER_DEFINITIONS = String.raw`
# Only cheap modules: json (re, enum) would cost a cold sandbox ~10 ms, so the
# job comes in marshal format and the report is formatted by hand; traceback is
# imported only when a program fails.
import os, sys, marshal, resource, time, types

SIGKILL = 9  # not signal.SIGKILL: the signal module imports enum (~4 ms)

# What the program's process tells its watcher on the mark pipe: ready for its
# job (R), the job starts (S, then the tree's memory limit in MB, 4 bytes LE),
# and, after, that it ran out of memory (M). The watcher passes R and S on to
# the service, ahead of its report.
READY_MARK = b'R'
START_MARK = b'S'
START_BYTES = 5
MEMORY_MARK = 0x4D

def read_exactly(fd, size):
    chunks = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError('the job ended early')
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)

def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

def safe_path(path):
    parts = [p for p in path.split('/') if p not in ('', '.')]
    if not parts or path.startswith('/') or '..' in parts:
        raise ValueError('bad path: ' + path)
    return '/'.join(parts)

def write_file(path, content):
    path = safe_path(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        write_all(fd, content.encode('utf-8'))
    finally:
        os.close(fd)
    return path

def set_limits(limits):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = limits['cpu_seconds']
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits['processes'], limits['processes']))
    file_size = limits['file_size_kb'] * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits['open_files'], limits['open_files']))
    if limits['address_space_mb']:
        size = limits['address_space_mb'] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

def exit_now(code):
    # A normal interpreter shutdown in the forked child costs ~16 ms; do what
    # matters by hand: join non-daemon threads, run atexit handlers, flush.
    try:
        if 'threading' in sys.modules:
            sys.modules['threading']._shutdown()
    except BaseException:
        pass
    try:
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(code)

def exit_code_of(error):
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code & 0xFF
    print(error.code, file=sys.stderr)
    return 1

def run_python(job, entry, mark_fd):
    sys.argv = [entry] + job['args']
    sys.path.insert(0, os.getcwd())
    module = types.ModuleType('__main__')
    module.__file__ = os.path.join(os.getcwd(), entry)
    module.__builtins__ = __builtins__
    sys.modules['__main__'] = module
    try:
        code = compile(job['code'], entry, 'exec')
        exec(code, module.__dict__)
    except SystemExit as error:
        exit_now(exit_code_of(error))
    except BaseException as error:
        if isinstance(error, MemoryError):
            try:
                os.write(mark_fd, bytes([MEMORY_MARK]))
            except OSError:
                pass
        tb = error.__traceback__
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        try:
            import traceback
            traceback.print_exception(type(error), error, tb)
        except BaseException:
            pass
        exit_now(1)
    exit_now(0)

PR_SET_DUMPABLE = 4
WATCH_INTERVAL = 0.02

def resident_bytes(pids):
    page = os.sysconf('SC_PAGE_SIZE')
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/statm' % pid, 'rb') as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
    return total

def namespace_pids(exclude):
    # Every process of the sandbox's pid namespace but 'exclude'.
    return [int(name) for name in os.listdir('/proc') if name.isdigit() and int(name) not in exclude]

def kill_all(exclude):
    for pid in namespace_pids(exclude):
        try:
            os.kill(pid, SIGKILL)
        except OSError:
            pass

def wait_watching(pid, limit):
    # Waits for the program while keeping the whole process tree under 'limit'
    # bytes resident: RLIMIT_AS is per process, and JavaScript has none at all
    # (memory outside the V8 heap, such as Buffers, is limited only here).
    # Only inside a sandbox's own pid namespace (where this launcher is pid 2):
    # unsandboxed (SANDBOX=none), /proc is the host's and must never be swept.
    if not limit or os.getpid() != 2:
        return os.wait4(pid, 0), False
    import select
    exclude = {1, os.getpid()}
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    exceeded = False
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return (done, status, usage), exceeded
        if exceeded or resident_bytes(namespace_pids(exclude)) > limit:
            exceeded = True
            kill_all(exclude)
        if pidfd is not None:
            select.select([pidfd], [], [], WATCH_INTERVAL)
        else:
            time.sleep(WATCH_INTERVAL)

def format_report(status, usage, wall, memory_error):
    def number(value):
        return 'null' if value is None else str(int(value))
    return ('{"exit_code":%s,"signal":%s,"cpu_ms":%s,"wall_ms":%s,"max_rss_kb":%s,"memory_error":%s}' % (
        number(os.WEXITSTATUS(status) if os.WIFEXITED(status) else None),
        number(os.WTERMSIG(status) if os.WIFSIGNALED(status) else None),
        number((usage.ru_utime + usage.ru_stime) * 1000),
        number(wall * 1000),
        number(usage.ru_maxrss),
        'true' if memory_error else 'false',
    )).encode()

_prctl = None

def set_dumpable(value):
    # prctl through _ctypes alone: importing the ctypes package costs every
    # sandbox ~0.7 ms more at start. A function pointer's result is a C int.
    global _prctl
    import _ctypes
    if _prctl is None:
        class CFunction(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _prctl = CFunction(_ctypes.dlsym(_ctypes.dlopen(None), 'prctl'))
    if _prctl(PR_SET_DUMPABLE, value, 0, 0, 0) != 0:
        raise OSError(_ctypes.get_errno(), 'prctl(PR_SET_DUMPABLE) failed')

def rehearse():
    # Before the job arrives, do once what starting it does (decode a job, write
    # a file, make a module, compile and run a line): the pages that touches are
    # copied from the interpreter the process was forked from now, while the
    # sandbox waits, not while its caller does. It leaves nothing behind.
    job = marshal.loads(marshal.dumps({'files': [{'path': 'a.py', 'content': ''}], 'code': 'x = 1', 'args': []}))
    path = write_file('.rehearsal.py', job['code'])
    os.unlink(path)
    module = types.ModuleType('__rehearsal__')
    module.__builtins__ = __builtins__
    exec(compile(job['code'], os.path.join(os.getcwd(), path), 'exec'), module.__dict__)

def program(mark_write):
    # The program's process: forked before the job arrives, so the fork and its
    # copy-on-write faults are paid while the sandbox waits. It reads the job
    # itself and writes its files inside the sandbox's own tmpfs; its watcher
    # (the launcher, or a zygote's relay) only waits for it and reports.
    os.write(mark_write, READY_MARK)
    rehearse()
    job = marshal.loads(read_exactly(3, int.from_bytes(read_exactly(3, 4), 'little')))
    os.close(3)
    os.chdir(job['workdir'])
    for item in job['files']:
        write_file(item['path'], item['content'])
    entry = write_file(job['entry'], job['code'])
    # The program itself is dumpable again (its own /proc files stay its own).
    set_dumpable(1)
    set_limits(job['limits'])
    # Before any code of the job runs: the launcher starts its clock and learns
    # the tree's memory limit (0: none).
    os.write(mark_write, START_MARK + (job['limits']['tree_memory_mb'] or 0).to_bytes(4, 'little'))
    if job['runtime'] == 'python':
        run_python(job, entry, mark_write)
    os.close(mark_write)
    os.execv(job['interpreter'], [job['interpreter']] + job['interpreter_args'] + [entry] + job['args'])

def main():
    # The program runs as the same uid: without this it could open the
    # launcher's pipes through /proc/<ppid>/fd (forging or flooding the report)
    # or ptrace it. A non-dumpable process is out of reach of both.
    set_dumpable(0)
    # The first compile() of a process pays for the parser's setup; pay it
    # before the job arrives (a warm sandbox then runs ~1 ms sooner).
    compile('x = 1', '<warm>', 'exec')
    mark_read, mark_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(4)
            os.close(mark_read)
            program(mark_write)
        finally:
            os._exit(127)
    os.close(3)
    os.close(mark_write)
    # Ready: the service may now move this sandbox into its memory cgroup and
    # send the job. Then the job starts (before that, nothing of it ran).
    if read_exactly(mark_read, 1) == READY_MARK:
        os.write(4, READY_MARK)
    start = read_exactly(mark_read, START_BYTES)
    started = time.monotonic()
    os.write(4, START_MARK)
    tree_limit = int.from_bytes(start[1:], 'little')
    (_, status, usage), tree_too_big = wait_watching(pid, tree_limit * 1024 * 1024)
    wall = time.monotonic() - started
    # Non-blocking: a forked grandchild may still hold the write end open.
    os.set_blocking(mark_read, False)
    memory_error = False
    try:
        memory_error = os.read(mark_read, 1) == bytes([MEMORY_MARK])
    except OSError:
        pass
    write_all(4, format_report(status, usage, wall, memory_error or tree_too_big))
    # Skip interpreter finalization: the sandbox is torn down right after.
    os._exit(0)
`;

export const LAUNCHER_SOURCE = `${LAUNCHER_DEFINITIONS}\nmain()\n`;

/**
 * Starts the launcher from its compiled form, read from fd 3 ahead of the job:
 * compiling LAUNCHER_SOURCE costs every sandbox start ~1 ms, loading the
 * marshalled code object ~0.02 ms. Marshal data is only valid for the Python
 * version that made it, so the version it was made for comes first.
 */
export const LAUNCHER_BOOTSTRAP = String.raw`
import marshal, os, sys
def _read(size):
    data = b''
    while len(data) < size:
        chunk = os.read(3, size - len(data))
        if not chunk:
            raise SystemExit('coderunner launcher: no code on fd 3')
        data += chunk
    return data
if int.from_bytes(_read(4), 'little') != sys.hexversion:
    raise SystemExit('coderunner launcher: compiled for another Python version; restart the service')
exec(marshal.loads(_read(int.from_bytes(_read(4), 'little'))))
`;

/** Run by the interpreter itself (stdin: the source): prints its version and the compiled launcher. */
export const LAUNCHER_COMPILER = String.raw`
import marshal, sys
code = marshal.dumps(compile(sys.stdin.read(), '<launcher>', 'exec'))
sys.stdout.buffer.write(sys.hexversion.to_bytes(4, 'little') + len(code).to_bytes(4, 'little') + code)
`;
