"""
The zygote: a Python interpreter started once inside a bubblewrap sandbox of
its own, which makes each run's sandbox from a copy of itself. Starting
bubblewrap and an interpreter costs ~40 ms of (mostly page-fault) work per
sandbox on the machines we measured; a clone of this already started
interpreter a few ms.

Its bubblewrap gives it CAP_SYS_ADMIN and CAP_NET_ADMIN in the sandbox's own
user namespace (never the host's) and no way to create user namespaces
(--disable-userns). For each run it starts a new pid namespace with two
processes in it:
 - pid 1, a clone of the zygote that shares its memory (nothing is copied for
   it) and its open files, and waits in pause() until it is killed (see
   start_init). It gets no signal from inside its namespace, and it ignores
   SIGCHLD, so the kernel reaps the orphans handed to it. Killing it kills
   everything in the namespace.
 - pid 2, the program's process, cloned from the zygote. It unshares mount,
   IPC, UTS and network namespaces, mounts its own size-limited tmpfs /tmp,
   /work and /dev/shm and its own /proc, brings its own loopback up, drops
   every capability and sets no_new_privs (checked: it refuses to go on
   otherwise), then is the program's process (program.py): it waits for its
   job on fd 3 and tells its watcher on fd 4 (the mark pipe).
A program's process copies the zygote's pages it writes, so one copied
process per run (not two) is what a sandbox costs; and it copies the pages
every run writes at once, first thing (see prefault).

Three long-lived processes: the one bubblewrap starts, which only makes a pid
namespace of our own and waits; in it, the relay (its pid 1, relay.py) and the
zygote, which the relay forks once. The zygote only makes sandboxes: clone()
with CLONE_PARENT makes each program's process the relay's child, and the
zygote hands the relay its pipes and pidfds over a socket (SCM_RIGHTS). The
relay moves bytes between the service and each sandbox's pipes, waits for the
program's process (its exit status and rusage: the report) and then kills pid
1. Neither runs a job; the zygote never even sees one, so a run cannot leave
anything behind for the next. They are apart because every page the zygote
writes while a sandbox lives is copied; the relay, which never makes a
sandbox, writes pages of its own.
"""
import ctypes
import marshal
import os
import sys
import _signal
import _socket

from .program import SIGKILL, program, set_dumpable, write_all
from .relay import ASK_BYTES, FAILED, FROM_SERVICE, MADE, MARKS, SANDBOX_FDS, TO_SANDBOX, TO_SERVICE, relay

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_VM = 0x00000100
CLONE_FILES = 0x00000400
CLONE_PARENT = 0x00008000
CLONE_PIDFD = 0x00001000
SIGCHLD = 17
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
AF_INET, SOCK_DGRAM = 2, 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
# clone()'s number here (looked up once: the zygote's hot path writes as little as it can).
SYS_CLONE = {'x86_64': 56, 'aarch64': 220}[os.uname().machine]


class CapHeader(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]


# Every C function is looked up here, once: a lookup made in a sandbox would
# allocate there, and every page a sandbox writes is copied from the zygote.
libc = ctypes.CDLL(None, use_errno=True)
c_mount, c_prctl, c_capset, c_capget = libc.mount, libc.prctl, libc.capset, libc.capget
c_socket, c_ioctl, c_close, c_unshare, c_setns = libc.socket, libc.ioctl, libc.close, libc.unshare, libc.setns
# PyDLL: the GIL stays held across clone(), as os.fork() holds it.
raw_syscall = ctypes.PyDLL(None, use_errno=True).syscall
raw_syscall.restype = ctypes.c_long
before_fork = ctypes.pythonapi.PyOS_BeforeFork
after_fork_child = ctypes.pythonapi.PyOS_AfterFork_Child
after_fork_parent = ctypes.pythonapi.PyOS_AfterFork_Parent
CapDataPair = CapData * 2
# struct ifreq for "lo": the name, then the flags (a short) where the union starts.
IFREQ_LO = ctypes.create_string_buffer(b'lo'.ljust(40, b'\0'), 40)
IFREQ_FLAGS = ctypes.c_short.from_buffer(IFREQ_LO, 16)
c_clone = libc.clone
c_pause = ctypes.cast(libc.pause, ctypes.c_void_p)
# The stack every sandbox's pid 1 runs on (see start_init), and its top.
INIT_STACK = ctypes.create_string_buffer(64 * 1024)
INIT_STACK_TOP = ctypes.c_void_p((ctypes.addressof(INIT_STACK) + len(INIT_STACK)) & ~15)
# madvise() that keeps the GIL (as raw_syscall does): it runs first thing in a fresh clone.
c_madvise = ctypes.PyDLL(None, use_errno=True).madvise
MADV_POPULATE_WRITE = 23
PAGE_SIZE = os.sysconf('SC_PAGE_SIZE')
# The zygote's pages a program's process writes in every run, as (start,
# length) runs of pages, learnt once by a probe (learn_hot_pages).
HOT_PAGES = []


def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, '%s: %s' % (what, os.strerror(errno)))


def clone_program():
    # clone() rather than fork(): CLONE_PARENT makes the process the relay's
    # child (the relay waits for it: its exit status and rusage), CLONE_PIDFD
    # gives a pidfd. What os.fork() does around fork() is done here too (locks,
    # threading state).
    pidfd = ctypes.c_int(-1)
    before_fork()
    pid = raw_syscall(ctypes.c_long(SYS_CLONE), ctypes.c_ulong(CLONE_PARENT | CLONE_PIDFD | SIGCHLD), ctypes.c_long(0), ctypes.byref(pidfd), ctypes.c_long(0), ctypes.c_long(0))
    if pid == 0:
        # Before after_fork_child(), so that what it writes is copied at once
        # too: prefault() only calls madvise(), holding the GIL, in a process
        # whose one thread is this one.
        prefault()
        after_fork_child()
        return 0, -1
    after_fork_parent()
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, 'clone: ' + os.strerror(errno))
    return pid, pidfd.value


def prefault():
    # In a program's process just cloned: copies the pages every run writes,
    # one madvise() per run of pages. Taking a page fault for each costs
    # several times as much where faults are slow (a guest whose hypervisor
    # traps every one, for instance). An error (a kernel older than 5.14)
    # leaves them to be faulted in as before.
    for start, length in HOT_PAGES:
        c_madvise(start, length, MADV_POPULATE_WRITE)


def private_writable_ranges():
    """(start, end) of our private writable mappings: the pages a clone of us copies when it writes them."""
    ranges = []
    with open('/proc/self/maps') as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith('rw') and fields[1].endswith('p'):
                start, end = (int(bound, 16) for bound in fields[0].split('-'))
                ranges.append((start, end))
    return ranges


def learn_hot_pages(tmpfs_bytes):
    # Makes a program's process once, before any run (forked into mount, IPC,
    # UTS and network namespaces of its own, like every other), and runs the
    # probe (probe.py) in it, which reports the pages it wrote; every later
    # program's process copies those at once (prefault). Only an
    # optimization: if anything fails, runs fault them in as they write them.
    job = marshal.dumps({
        'runtime': 'python', 'workdir': '/work', 'entry': 'main.py', 'files': [],
        'code': 'from %s.probe import main\nmain()\n' % __package__,
        'args': ['%x-%x' % bounds for bounds in private_writable_ranges()],
        'interpreter': '', 'interpreter_args': [],
        'limits': {'cpu_seconds': 10, 'processes': 64, 'file_size_kb': 1024, 'open_files': 64, 'address_space_mb': None, 'tree_memory_mb': None},
    })
    theirs, ours = sandbox_pipes()
    pid = os.fork()
    if pid == 0:
        become_program(theirs, tmpfs_bytes)
    for fd in theirs:
        os.close(fd)
    os.close(ours[0])
    write_all(ours[3], len(job).to_bytes(4, 'little') + job)
    os.close(ours[3])
    output = b''
    while True:
        chunk = os.read(ours[1], 65536)
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    for fd in (ours[1], ours[2], ours[4]):
        os.close(fd)
    lines = output.decode().split('\n')
    if status != 0 or lines[0] != '1':
        return
    for line in lines[1:]:
        if line:
            start, pages = (int(number) for number in line.split(':'))
            HOT_PAGES.append((ctypes.c_void_p(start), ctypes.c_size_t(pages * PAGE_SIZE)))


def sandbox_pipes():
    """The five pipes of a program's process (stdin, stdout, stderr, job, marks): its ends and ours, in fd order."""
    pipes = [os.pipe() for _ in range(SANDBOX_FDS)]
    theirs = [read if fd in TO_SANDBOX else write for fd, (read, write) in enumerate(pipes)]
    ours = [write if fd in TO_SANDBOX else read for fd, (read, write) in enumerate(pipes)]
    return theirs, ours


def start_init():
    # Pid 1 of the pid namespace our next children start: a clone sharing our
    # memory (so nothing is copied for it) that waits in pause() until the relay
    # kills it. It shares our table of open files too, so it holds none of a
    # sandbox's pipes once we have closed our ends (a program reading its
    # stdin must see it end). It runs no Python, only clone()'s return path
    # and pause(), which in a single-threaded process write nothing but their
    # stack, and the same bytes in every pid 1: so they all share one stack.
    # No signal from inside its namespace reaches it (pid 1 gets only the
    # signals it handles, and the zygote handles none: see clone_server), and
    # it ignores SIGCHLD as the zygote does, so the kernel reaps the orphans it
    # inherits.
    pidfd = ctypes.c_int(-1)
    pid = c_clone(c_pause, INIT_STACK_TOP, CLONE_VM | CLONE_FILES | CLONE_PIDFD | SIGCHLD, None, ctypes.byref(pidfd))
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, 'clone: ' + os.strerror(errno))
    return pid, pidfd.value


def mount(source, target, fstype, flags, data):
    check(c_mount(source, target, fstype, ctypes.c_ulong(flags), data), 'mount ' + target.decode())


def enter_sandbox(tmpfs_bytes):
    # The program's process, pid 2 of its pid namespace, still with
    # CAP_SYS_ADMIN in the zygote's user namespace: namespaces of its own for
    # the rest (its /proc then shows its pid namespace).
    check(c_unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), 'unshare')
    options = ('size=%d,mode=0755' % tmpfs_bytes).encode()
    for path in (b'/tmp', b'/work', b'/dev/shm'):
        mount(b'tmpfs', path, b'tmpfs', MS_NOSUID | MS_NODEV, options)
    # The working directory was the zygote's /work, shared by its sandboxes: now this one's.
    os.chdir('/work')
    mount(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    # As bubblewrap does with its /proc: /proc/sys read-only.
    mount(b'/proc/sys', b'/proc/sys', None, MS_BIND | MS_REC, None)
    mount(None, b'/proc/sys', None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    # A network namespace of its own, with only a loopback device, up (as
    # bubblewrap leaves it): programs may talk to themselves over 127.0.0.1.
    loopback_up()
    check(c_prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)), 'no_new_privs')
    check(c_prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)), 'clear ambient capabilities')
    check(c_capset(ctypes.byref(CapHeader(CAPABILITY_VERSION_3, 0)), CapDataPair()), 'capset')
    # Checked, not assumed: nothing of the job runs with a capability (ambient
    # capabilities are a subset of the permitted ones, so none are left either).
    held = CapDataPair()
    check(c_capget(ctypes.byref(CapHeader(CAPABILITY_VERSION_3, 0)), held), 'capget')
    if any(data.effective or data.permitted or data.inheritable for data in held) or c_prctl(PR_GET_NO_NEW_PRIVS, ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 1:
        raise OSError('capabilities were not dropped')


def loopback_up():
    sock = c_socket(AF_INET, SOCK_DGRAM, 0)
    if sock < 0:
        check(-1, 'socket')
    try:
        check(c_ioctl(sock, ctypes.c_ulong(SIOCGIFFLAGS), IFREQ_LO), 'SIOCGIFFLAGS lo')
        IFREQ_FLAGS.value |= IFF_UP
        check(c_ioctl(sock, ctypes.c_ulong(SIOCSIFFLAGS), IFREQ_LO), 'SIOCSIFFLAGS lo')
    finally:
        c_close(sock)


def become_program(fds, tmpfs_bytes):
    """The program's process, just cloned: its pipes on fds 0-4, namespaces and mounts of its own, then program()."""
    try:
        # The zygote lets the kernel reap its children; the program's own are waited for.
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        # Above the zygote's own fds first, then into place; nothing else stays open.
        high = [os.dup(fd) for fd in fds]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(SANDBOX_FDS, 1 << 20)
        enter_sandbox(tmpfs_bytes)
        program(MARKS)
    except BaseException as error:
        try:
            os.write(2, ('coderunner sandbox: %s\n' % error).encode())
        finally:
            os._exit(126)
    os._exit(127)


def start_sandbox(tmpfs_bytes, own_pid_namespace):
    """Makes a sandbox; returns our ends of its program's five pipes (in fd order) and pidfds of the program and of pid 1, and their pids."""
    theirs, ours = sandbox_pipes()
    init_pidfd = -1
    try:
        # Our next children are the first processes of a new pid namespace.
        check(c_unshare(CLONE_NEWPID), 'unshare')
        try:
            init_pid, init_pidfd = start_init()
            pid, pidfd = clone_program()
            if pid == 0:
                become_program(theirs, tmpfs_bytes)
        finally:
            # Later children are ours again (and a later unshare requires it);
            # a zygote that cannot get its own namespace back is of no use.
            if c_setns(own_pid_namespace, CLONE_NEWPID) != 0:
                os._exit(1)
    except OSError:
        if init_pidfd >= 0:
            _signal.pidfd_send_signal(init_pidfd, SIGKILL)
            os.close(init_pidfd)
        for fd in theirs + ours:
            os.close(fd)
        raise
    for fd in theirs:
        os.close(fd)
    return ours + [pidfd, init_pidfd], pid, init_pid


def clone_server(sock, tmpfs_bytes):
    # The zygote itself: it makes a sandbox when the relay asks and hands the
    # relay the sandbox's pipes and pidfds, and does nothing else. Every page it
    # writes while a sandbox lives is copied, so it writes few. Its children
    # (each sandbox's pid 1) are reaped by the kernel, and so, since pid 1
    # inherits this, are the orphans of a sandbox. No signal has a handler:
    # one would run in a pid 1, which shares our memory.
    learn_hot_pages(tmpfs_bytes)
    _signal.signal(_signal.SIGCHLD, _signal.SIG_IGN)
    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    own_pid_namespace = os.open('/proc/self/ns/pid', os.O_RDONLY)
    while True:
        request = sock.recv(ASK_BYTES)
        if not request:
            os._exit(0)
        try:
            fds, pid, init_pid = start_sandbox(tmpfs_bytes, own_pid_namespace)
        except OSError as error:
            # No sandbox this time (out of processes or memory, say): the
            # service sees it gone before it started; the zygote stays.
            os.write(2, ('coderunner zygote: could not start a sandbox: %s\n' % error).encode())
            sock.send(FAILED + request[1:])
            continue
        message = MADE + request[1:] + pid.to_bytes(4, 'little') + init_pid.to_bytes(4, 'little')
        sock.sendmsg([message], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, b''.join(fd.to_bytes(4, sys.byteorder) for fd in fds))])
        for fd in fds:
            os.close(fd)


def main():
    tmpfs_bytes = int(sys.argv[1])
    set_dumpable(0)
    compile('x = 1', '<warm>', 'exec')
    # Objects made so far are never collected: the collector of a sandbox then
    # does not touch (and copy) the pages they share with the zygote.
    import gc
    gc.freeze()
    # A pid namespace of our own (and a /proc that shows it): bubblewrap's
    # belongs to a user namespace in which we hold no capability, and the zygote
    # must return to its own pid namespace after starting each sandbox's.
    check(c_unshare(CLONE_NEWPID | CLONE_NEWNS), 'unshare')
    relay_pid = os.fork()
    if relay_pid != 0:
        # Bubblewrap's child, which lives as long as the relay does.
        os.close(FROM_SERVICE)
        os.close(TO_SERVICE)
        os.waitpid(relay_pid, 0)
        os._exit(1)
    # The relay: pid 1 of that namespace (when it exits, the zygote and every sandbox go with it).
    mount(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    zygote_end, relay_end = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    zygote_pid = os.fork()
    if zygote_pid == 0:
        relay_end.close()
        # The service's channel is the relay's alone.
        os.close(FROM_SERVICE)
        os.close(TO_SERVICE)
        clone_server(zygote_end, tmpfs_bytes)
    zygote_end.close()
    relay(relay_end, os.pidfd_open(zygote_pid))
