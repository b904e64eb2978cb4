"""
The program's process: the process of a sandbox that runs its job, made before
the job arrives (forked by the launcher, or cloned by a zygote), so a sandbox
can be started ahead of time and kept warm. It reads its one job on fd 3,
creates the job's files inside the sandbox's own tmpfs (the host never writes
through a path the code could influence), sets its resource limits and runs
it: Python in this already started interpreter (no second interpreter start),
JavaScript by exec'ing node. Its watcher (launcher.py, or a zygote's relay,
relay.py) waits for it and reports; what the watcher reads of it is here too.

Only cheap modules: json (re, enum) would cost a cold sandbox ~10 ms, so the
job comes in marshal format (marshal.ts) and the report is formatted by hand;
traceback is imported only when a program fails.
"""
import builtins
import marshal
import os
import resource
import sys
import types

from .protocol import fds, marks

SIGKILL = 9  # not signal.SIGKILL: the signal module imports enum (~4 ms)
JOB_FD = fds['job']
REPORT_FD = fds['report']

# What the program's process tells its watcher on the mark pipe: ready for its
# job, the job starts (then the tree's memory limit in MB, 4 bytes LE), and,
# after, that it ran out of memory. The watcher passes ready and start on to
# the service, ahead of its report.
READY_MARK = marks['ready'].encode()
START_MARK = marks['start'].encode()
MEMORY_MARK = marks['memory'].encode()
START_BYTES = len(START_MARK) + 4

PR_SET_DUMPABLE = 4
# How often a watcher measures the tree's resident memory (seconds).
WATCH_INTERVAL = 0.02


def read_exactly(fd, size):
    chunks = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError('the job ended early')
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)


def read_job(fd):
    """A job as the service writes it: its length (4 bytes LE), then the job in marshal format."""
    return marshal.loads(read_exactly(fd, int.from_bytes(read_exactly(fd, 4), 'little')))


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


def rlimits(limits):
    """The job's limits (launcherJob in sandbox.ts) as (resource, soft, hard), in the order they are set."""
    cpu = limits['cpu_seconds']
    file_size = limits['file_size_kb'] * 1024
    result = [
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_NPROC, limits['processes'], limits['processes']),
        (resource.RLIMIT_FSIZE, file_size, file_size),
        (resource.RLIMIT_NOFILE, limits['open_files'], limits['open_files']),
    ]
    if limits['address_space_mb']:
        size = limits['address_space_mb'] * 1024 * 1024
        result.append((resource.RLIMIT_AS, size, size))
    return result


def set_limits(limits):
    for which, soft, hard in rlimits(limits):
        resource.setrlimit(which, (soft, hard))


def start_mark(limits):
    """The mark that the job starts, with the tree's memory limit in MB (0: none)."""
    return START_MARK + (limits['tree_memory_mb'] or 0).to_bytes(4, 'little')


def tree_limit_bytes(mark):
    """The tree's memory limit a start mark carries, in bytes (0: none)."""
    return int.from_bytes(mark[len(START_MARK):START_BYTES], 'little') * 1024 * 1024


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
    module.__builtins__ = builtins
    sys.modules['__main__'] = module
    try:
        code = compile(job['code'], entry, 'exec')
        exec(code, module.__dict__)
    except SystemExit as error:
        exit_now(exit_code_of(error))
    except BaseException as error:
        if isinstance(error, MemoryError):
            try:
                os.write(mark_fd, MEMORY_MARK)
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


def format_report(status, usage, wall, memory_error):
    """The watcher's report (JSON, parsed by sandbox.ts) from the program's wait status and rusage."""
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
    module.__builtins__ = builtins
    exec(compile(job['code'], os.path.join(os.getcwd(), path), 'exec'), module.__dict__)


def program(mark_write):
    # Forked before the job arrives, so the fork and its copy-on-write faults
    # are paid while the sandbox waits. It reads the job itself and writes its
    # files inside the sandbox's own tmpfs; its watcher (the launcher, or a
    # zygote's relay) only waits for it and reports.
    os.write(mark_write, READY_MARK)
    rehearse()
    job = read_job(JOB_FD)
    os.close(JOB_FD)
    os.chdir(job['workdir'])
    for item in job['files']:
        write_file(item['path'], item['content'])
    entry = write_file(job['entry'], job['code'])
    # The program itself is dumpable again (its own /proc files stay its own).
    set_dumpable(1)
    set_limits(job['limits'])
    # Before any code of the job runs: the watcher starts its clock and learns
    # the tree's memory limit.
    os.write(mark_write, start_mark(job['limits']))
    if job['runtime'] == 'python':
        run_python(job, entry, mark_write)
    os.close(mark_write)
    os.execv(job['interpreter'], [job['interpreter']] + job['interpreter_args'] + [entry] + job['args'])
