"""
The launcher: the first process inside every sandbox bubblewrap starts (and
the one SANDBOX=none runs), loaded by bootstrap.py. It forks the program's
process at once (program.py), which waits for one job on fd 3, then waits for
it and reports the exit status and rusage as JSON on fd 4. When the launcher
exits, bubblewrap's pid 1 exits and the kernel kills everything left in the
pid namespace: daemons included. A zygote's sandboxes (zygote.py) run the same
program's process, without this launcher.
"""
import os
import time

from .program import (
    JOB_FD, MEMORY_MARK, READY_MARK, REPORT_FD, SIGKILL, START_BYTES, START_MARK, WATCH_INTERVAL,
    format_report, program, read_exactly, resident_bytes, set_dumpable, tree_limit_bytes, write_all,
)


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
            os.close(REPORT_FD)
            os.close(mark_read)
            program(mark_write)
        finally:
            os._exit(127)
    os.close(JOB_FD)
    os.close(mark_write)
    # Ready: the service may now move this sandbox into its memory cgroup and
    # send the job. Then the job starts (before that, nothing of it ran).
    if read_exactly(mark_read, 1) == READY_MARK:
        os.write(REPORT_FD, READY_MARK)
    start = read_exactly(mark_read, START_BYTES)
    started = time.monotonic()
    os.write(REPORT_FD, START_MARK)
    (_, status, usage), tree_too_big = wait_watching(pid, tree_limit_bytes(start))
    wall = time.monotonic() - started
    # Non-blocking: a forked grandchild may still hold the write end open.
    os.set_blocking(mark_read, False)
    memory_error = False
    try:
        memory_error = os.read(mark_read, 1) == MEMORY_MARK
    except OSError:
        pass
    write_all(REPORT_FD, format_report(status, usage, wall, memory_error or tree_too_big))
    # Skip interpreter finalization: the sandbox is torn down right after.
    os._exit(0)
