import { LAUNCHER_DEFINITIONS } from './launcher.source';

/**
 * The zygote: a Python interpreter started once inside a bubblewrap sandbox of
 * its own, which makes each run's sandbox by cloning itself into new pid, mount,
 * IPC, UTS and network namespaces. Starting bubblewrap and an interpreter costs
 * ~40 ms of (mostly page-fault) work per sandbox on the machines we measured;
 * a clone of this already started interpreter ~6 ms.
 *
 * Its bubblewrap gives it CAP_SYS_ADMIN and CAP_NET_ADMIN in the sandbox's own
 * user namespace (never the host's) and no way to create user namespaces
 * (--disable-userns). Each clone (pid 1 of its new pid namespace) mounts its own
 * tmpfs /tmp, /work and /dev/shm and its own /proc, brings its own loopback up,
 * drops every capability and sets no_new_privs (checked: it refuses to go on
 * otherwise), then is the launcher (LAUNCHER_DEFINITIONS' main): it forks the
 * program's process and waits for one job. When it exits, the kernel kills
 * everything left in its pid namespace.
 *
 * Two processes: the zygote, which only clones, and its relay (forked once, at
 * start), which moves bytes between the service and each sandbox's pipes (stdin,
 * stdout, stderr, job, report), receiving them (and a pidfd) from the zygote over
 * a socket. Neither runs a job; the zygote never even sees one, so a run cannot
 * leave anything behind for the next. They are apart because every page the
 * zygote writes while a sandbox lives is copied (they share it); the relay,
 * which never forks, writes pages of its own.
 *
 * Frames both ways: kind (1 byte), sandbox id (4 bytes LE), length (4 bytes LE), payload.
 *  service -> relay (fd 3): S start a sandbox; D data for its fd (payload: fd byte, bytes);
 *                           E end of its fd (payload: fd byte); K kill it.
 *  relay -> service (fd 4): Z ready; D data from a sandbox's fd; E end of that fd;
 *                           X the sandbox is gone (every process of it), or never started.
 */
const ZYGOTE_DEFINITIONS = String.raw`
import ctypes, select, _signal, _socket

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_PIDFD = 0x00001000
SIGCHLD = 17
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
AF_INET, SOCK_DGRAM = 2, 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SYS_CLONE = {'x86_64': 56, 'aarch64': 220}
SANDBOX_FDS = 5  # stdin, stdout, stderr, job, report: as under bubblewrap
TO_SANDBOX = (0, 3)

class CapHeader(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]

class CapData(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]

# Every C function is looked up here, once: a lookup made in a sandbox would
# allocate there, and every page a sandbox writes is copied from the zygote.
libc = ctypes.CDLL(None, use_errno=True)
c_mount, c_prctl, c_capset, c_capget = libc.mount, libc.prctl, libc.capset, libc.capget
c_socket, c_ioctl, c_close = libc.socket, libc.ioctl, libc.close
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

def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, '%s: %s' % (what, os.strerror(errno)))

def clone_sandbox():
    # clone() rather than fork(): the child must be the first process of a new
    # pid namespace, and unshare() would cost a second fork. What os.fork() does
    # around fork() is done here too (locks, threading state). CLONE_PIDFD: the
    # relay watches and kills the sandbox through a pidfd, never a pid that the
    # kernel (which reaps the zygote's children) may have given to another process.
    number = SYS_CLONE[os.uname().machine]
    flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_PIDFD | SIGCHLD
    pidfd = ctypes.c_int(-1)
    before_fork()
    pid = raw_syscall(ctypes.c_long(number), ctypes.c_ulong(flags), ctypes.c_long(0), ctypes.byref(pidfd), ctypes.c_long(0), ctypes.c_long(0))
    if pid == 0:
        after_fork_child()
        return 0, -1
    after_fork_parent()
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, 'clone: ' + os.strerror(errno))
    return pid, pidfd.value

def mount(source, target, fstype, flags, data):
    check(c_mount(source, target, fstype, ctypes.c_ulong(flags), data), 'mount ' + target.decode())

def enter_sandbox(tmpfs_bytes):
    # Pid 1 of the new namespaces, still with CAP_SYS_ADMIN in the zygote's user namespace.
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

def send_frame(kind, sandbox_id, payload=b''):
    write_all(4, kind + sandbox_id.to_bytes(4, 'little') + len(payload).to_bytes(4, 'little') + payload)

class Child:
    """A sandbox as the relay sees it: the service's ends of its pipes and a pidfd of its pid 1."""
    def __init__(self, sandbox_id, pidfd, writers, readers):
        self.id = sandbox_id
        self.pidfd = pidfd
        # sandbox fd -> [our write end, pending bytes, end requested]
        self.writers = writers
        # our read end -> sandbox fd
        self.readers = readers

    def write_pending(self, fd):
        writer = self.writers[fd]
        try:
            if writer[1]:
                del writer[1][:os.write(writer[0], writer[1])]
        except BlockingIOError:
            return
        except OSError:
            # The sandbox closed its end (or is gone): what it did not read is dropped.
            writer[1].clear()
            writer[2] = True
        if not writer[1] and writer[2]:
            os.close(writer[0])
            del self.writers[fd]

    def kill(self):
        try:
            _signal.pidfd_send_signal(self.pidfd, SIGKILL)
        except OSError:
            pass

def clone_child(tmpfs_bytes):
    """Clones a sandbox; returns our ends of its five pipes (in fd order) and a pidfd of it."""
    pipes = [os.pipe() for _ in range(SANDBOX_FDS)]
    theirs = [read if fd in TO_SANDBOX else write for fd, (read, write) in enumerate(pipes)]
    try:
        pid, pidfd = clone_sandbox()
    except OSError:
        for pipe in pipes:
            os.close(pipe[0])
            os.close(pipe[1])
        raise
    if pid == 0:
        try:
            # The zygote lets the kernel reap its children; the sandbox's pid 1 waits for its own.
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            # Above the zygote's own fds first, then into place; nothing else stays open.
            high = [os.dup(fd) for fd in theirs]
            for target, fd in enumerate(high):
                os.dup2(fd, target)
            os.closerange(SANDBOX_FDS, 1 << 20)
            enter_sandbox(tmpfs_bytes)
            main(warm_parser=False)
        except BaseException as error:
            try:
                os.write(2, ('coderunner sandbox: %s\n' % error).encode())
            finally:
                os._exit(126)
        os._exit(0)
    for fd in theirs:
        os.close(fd)
    return [write if fd in TO_SANDBOX else read for fd, (read, write) in enumerate(pipes)], pidfd

def clone_server(sock, tmpfs_bytes):
    # The zygote itself: it clones a sandbox when the relay asks and hands the
    # relay the sandbox's pipes and pidfd, and does nothing else. Every page it
    # writes while a sandbox lives is copied, so it writes few.
    _signal.signal(_signal.SIGCHLD, _signal.SIG_IGN)
    while True:
        request = sock.recv(5)
        if not request:
            os._exit(0)
        try:
            fds, pidfd = clone_child(tmpfs_bytes)
        except OSError as error:
            # No sandbox this time (out of processes or memory, say): the
            # service sees it gone before it started; the zygote stays.
            os.write(2, ('coderunner zygote: could not start a sandbox: %s\n' % error).encode())
            sock.send(b'F' + request[1:])
            continue
        fds.append(pidfd)
        sock.sendmsg([b'S' + request[1:]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, b''.join(fd.to_bytes(4, sys.byteorder) for fd in fds))])
        for fd in fds:
            os.close(fd)

def receive_child(sock, sandbox_id):
    """The relay's side of a clone: the sandbox's pipes and pidfd from the zygote, or None."""
    sock.send(b'S' + sandbox_id.to_bytes(4, 'little'))
    message, ancillary, _, _ = sock.recvmsg(5, _socket.CMSG_SPACE(4 * (SANDBOX_FDS + 1)))
    fds = [int.from_bytes(data[i:i + 4], sys.byteorder) for _, _, data in ancillary for i in range(0, len(data) - len(data) % 4, 4)]
    if message[:1] != b'S' or len(fds) != SANDBOX_FDS + 1:
        for fd in fds:
            os.close(fd)
        return None
    writers = {}
    readers = {}
    for fd in range(SANDBOX_FDS):
        if fd in TO_SANDBOX:
            os.set_blocking(fds[fd], False)
            writers[fd] = [fds[fd], bytearray(), False]
        else:
            readers[fds[fd]] = fd
    return Child(sandbox_id, fds[SANDBOX_FDS], writers, readers)

def relay(sock):
    # Between the service (frames on fds 3 and 4) and every sandbox's pipes.
    # A process of its own that never forks: the pages it writes are its own.
    children = {}
    send_frame(b'Z', 0)
    while True:
        readable = [3] + [fd for child in children.values() for fd in (child.readers or [child.pidfd])]
        writable = [writer[0] for child in children.values() for writer in child.writers.values() if writer[1]]
        ready, can_write, _ = select.select(readable, writable, [])
        for child in list(children.values()):
            for fd, writer in list(child.writers.items()):
                if writer[0] in can_write:
                    child.write_pending(fd)
            for read in [fd for fd in child.readers if fd in ready]:
                data = os.read(read, 65536)
                if data:
                    send_frame(b'D', child.id, bytes([child.readers[read]]) + data)
                    continue
                send_frame(b'E', child.id, bytes([child.readers[read]]))
                os.close(read)
                del child.readers[read]
            if not child.readers and child.pidfd in ready:
                # Its pid 1 exited, and with it (the kernel saw to it) every
                # other process of the sandbox: say so.
                os.close(child.pidfd)
                for writer in child.writers.values():
                    os.close(writer[0])
                del children[child.id]
                send_frame(b'X', child.id)
        if 3 not in ready:
            continue
        header = os.read(3, 9)
        if not header:
            # The service is gone: so is every sandbox (and the zygote, when this socket closes).
            for child in children.values():
                child.kill()
            os._exit(0)
        header += read_exactly(3, 9 - len(header)) if len(header) < 9 else b''
        kind = header[:1]
        sandbox_id = int.from_bytes(header[1:5], 'little')
        payload = read_exactly(3, int.from_bytes(header[5:9], 'little'))
        child = children.get(sandbox_id)
        if kind == b'S':
            child = receive_child(sock, sandbox_id)
            if child is None:
                send_frame(b'X', sandbox_id)
            else:
                children[sandbox_id] = child
        elif child is None:
            continue
        elif kind == b'D' and payload[0] in child.writers:
            child.writers[payload[0]][1] += payload[1:]
            child.write_pending(payload[0])
        elif kind == b'E' and payload[0] in child.writers:
            child.writers[payload[0]][2] = True
            child.write_pending(payload[0])
        elif kind == b'K':
            child.kill()

def zygote_main():
    tmpfs_bytes = int(sys.argv[1])
    set_dumpable(0)
    compile('x = 1', '<warm>', 'exec')
    # Objects made so far are never collected: the collector of a sandbox then
    # does not touch (and copy) the pages they share with the zygote.
    import gc
    gc.freeze()
    zygote_end, relay_end = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    if os.fork() == 0:
        zygote_end.close()
        relay(relay_end)
    relay_end.close()
    # The service's channel is the relay's alone.
    os.close(3)
    os.close(4)
    clone_server(zygote_end, tmpfs_bytes)
`;

export const ZYGOTE_SOURCE = `${LAUNCHER_DEFINITIONS}\n${ZYGOTE_DEFINITIONS}\nzygote_main()\n`;
