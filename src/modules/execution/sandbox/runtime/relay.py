"""
The relay: a zygote's go-between (see zygote.py). It moves bytes between the
service (frames, see protocol.json) and each sandbox's pipes, waits for each
sandbox's program's process (its child: the zygote clones it with
CLONE_PARENT), reports its exit status and rusage as the launcher would, and
then kills the sandbox's pid 1. It never makes a sandbox and never runs a job:
the zygote hands it each sandbox's pipes and pidfds over a socket.
"""
import os
import select
import sys
import time
import _signal
import _socket

from .program import (
    JOB_FD, MEMORY_MARK, READY_MARK, REPORT_FD, SIGKILL, START_BYTES, START_MARK, WATCH_INTERVAL,
    format_report, resident_bytes, tree_limit_bytes, write_all,
)
from .protocol import fds as fd_numbers, frame_header, frame_kinds

# The service's channel: the fds it opened for a launcher carry frames here.
FROM_SERVICE, TO_SERVICE = JOB_FD, REPORT_FD

HEADER_BYTES = frame_header['bytes']
ID_AT = frame_header['id_at']
LENGTH_AT = frame_header['length_at']
START, DATA, END, KILL, READY, GONE = (
    frame_kinds[name].encode() for name in ('start', 'data', 'end', 'kill', 'ready', 'gone'))

# A sandbox's pipes, in fd order: stdin, stdout, stderr, job, marks (its report).
SANDBOX_FDS = len(fd_numbers)
TO_SANDBOX = (fd_numbers['stdin'], fd_numbers['job'])
FROM_SANDBOX = (fd_numbers['stdout'], fd_numbers['stderr'])
MARKS = fd_numbers['report']
MARKS_BEFORE_JOB = len(READY_MARK) + START_BYTES

# Between the relay and the zygote (a SOCK_SEQPACKET socket): the relay asks
# for a sandbox (ASK and its id, ASK_BYTES); the zygote answers MADE, the id,
# the pids of its program's process and of its pid 1 (MADE_BYTES, with its
# pipes and pidfds attached), or FAILED and the id.
ASK, MADE, FAILED = b'S', b'S', b'F'
ASK_BYTES, MADE_BYTES = 5, 13


def encode_header(kind, sandbox_id, length):
    header = bytearray(HEADER_BYTES)
    header[0:1] = kind
    header[ID_AT:ID_AT + 4] = sandbox_id.to_bytes(4, 'little')
    header[LENGTH_AT:LENGTH_AT + 4] = length.to_bytes(4, 'little')
    return header


def take_frames(inbox):
    """Removes every whole frame from the start of 'inbox' (a bytearray); returns them as (kind, sandbox id, payload)."""
    frames = []
    while len(inbox) >= HEADER_BYTES:
        end = HEADER_BYTES + int.from_bytes(inbox[LENGTH_AT:LENGTH_AT + 4], 'little')
        if len(inbox) < end:
            break
        frame = bytes(inbox[:end])
        del inbox[:end]
        frames.append((frame[:1], int.from_bytes(frame[ID_AT:ID_AT + 4], 'little'), frame[HEADER_BYTES:]))
    return frames


# Frames for the service, written together once per turn of the relay's loop.
OUTBOX = bytearray()


def send_frame(kind, sandbox_id, payload=b''):
    OUTBOX.extend(encode_header(kind, sandbox_id, len(payload)))
    OUTBOX.extend(payload)


def flush_frames():
    if OUTBOX:
        write_all(TO_SERVICE, OUTBOX)
        del OUTBOX[:]


def tree_pids(roots):
    """The processes descended from 'roots' (themselves included), by the parent each names in /proc."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name, 'rb') as f:
                    stat = f.read()
                children.setdefault(int(stat[stat.rindex(b')') + 2:].split()[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    found = list(roots)
    for pid in found:
        found.extend(children.get(pid, ()))
    return found


class Child:
    """A sandbox as the relay sees it: the service's ends of its pipes, its program's process (our child) and its pid 1."""
    def __init__(self, sandbox_id, pid, init_pid, fds):
        self.id = sandbox_id
        self.pid = pid
        self.pidfd = fds[SANDBOX_FDS]
        self.init_pid = init_pid
        self.init_pidfd = fds[SANDBOX_FDS + 1]
        # sandbox fd -> [our write end, pending bytes, end requested]
        self.writers = {}
        # our read end -> sandbox fd
        self.readers = {}
        for fd in TO_SANDBOX:
            os.set_blocking(fds[fd], False)
            self.writers[fd] = [fds[fd], bytearray(), False]
        for fd in FROM_SANDBOX:
            self.readers[fds[fd]] = fd
        self.marks = fds[MARKS]
        os.set_blocking(self.marks, False)
        self.mark_bytes = b''
        # When its job started (monotonic), and the tree's memory limit in bytes (0: not watched).
        self.started = None
        self.tree_limit = 0
        self.exceeded = False
        self.exited = False

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

    def wants_marks(self):
        return self.marks is not None and len(self.mark_bytes) < MARKS_BEFORE_JOB

    def read_marks(self):
        # Ready, then the start: both passed on to the service, ahead of the report.
        try:
            data = os.read(self.marks, MARKS_BEFORE_JOB - len(self.mark_bytes))
        except BlockingIOError:
            return
        except OSError:
            data = b''
        if not data:
            self.close_marks()
            return
        if not self.mark_bytes and data[:1] == READY_MARK:
            send_frame(DATA, self.id, bytes([MARKS]) + READY_MARK)
        self.mark_bytes += data
        if len(self.mark_bytes) == MARKS_BEFORE_JOB:
            self.started = time.monotonic()
            send_frame(DATA, self.id, bytes([MARKS]) + START_MARK)
            self.tree_limit = tree_limit_bytes(self.mark_bytes[len(READY_MARK):])

    def close_marks(self):
        if self.marks is not None:
            os.close(self.marks)
            self.marks = None

    def watching(self):
        return bool(self.tree_limit) and not self.exited and not self.exceeded

    def watch(self):
        # The whole tree's resident memory (see wait_watching in launcher.py):
        # the program's process, its descendants, and the orphans pid 1 inherited.
        pids = [pid for pid in tree_pids([self.pid, self.init_pid]) if pid != self.init_pid]
        if resident_bytes(pids) > self.tree_limit:
            self.exceeded = True
            self.kill()

    def reap(self):
        # Its pidfd is readable: the program's process exited. Report it as the
        # launcher would, then end the sandbox (whatever it left running).
        _, status, usage = os.wait4(self.pid, 0)
        self.exited = True
        os.close(self.pidfd)
        if self.started is not None:
            memory_error = self.exceeded
            if self.marks is not None:
                try:
                    memory_error = memory_error or os.read(self.marks, 1) == MEMORY_MARK
                except OSError:
                    pass
            send_frame(DATA, self.id, bytes([MARKS]) + format_report(status, usage, time.monotonic() - self.started, memory_error))
        send_frame(END, self.id, bytes([MARKS]))
        self.close_marks()
        self.kill()

    def kill(self):
        # Its pid 1: when pid 1 dies, the kernel kills every process of its namespace.
        try:
            _signal.pidfd_send_signal(self.init_pidfd, SIGKILL)
        except OSError:
            pass

    def close(self):
        os.close(self.init_pidfd)
        for writer in self.writers.values():
            os.close(writer[0])
        for fd in self.readers:
            os.close(fd)


def end_relay(children, code):
    # Every sandbox goes with the relay; the service sees the zygote gone and starts another.
    for child in children.values():
        child.kill()
    os._exit(code)


def receive_child(sock, zygote_pidfd, children, sandbox_id):
    """The relay's side of a new sandbox: its pipes and pidfds from the zygote, or None if it made none."""
    sock.send(ASK + sandbox_id.to_bytes(4, 'little'))
    # Not a blocking read alone: if the zygote died, its socket may stay open
    # (each sandbox's pid 1 shares its table of open files).
    ready, _, _ = select.select([sock.fileno(), zygote_pidfd], [], [])
    if sock.fileno() not in ready:
        end_relay(children, 1)
    count = SANDBOX_FDS + 2
    message, ancillary, _, _ = sock.recvmsg(MADE_BYTES, _socket.CMSG_SPACE(4 * count))
    fds = [int.from_bytes(data[i:i + 4], sys.byteorder) for _, _, data in ancillary for i in range(0, len(data) - len(data) % 4, 4)]
    if message[:1] != MADE or len(message) != MADE_BYTES or len(fds) != count:
        for fd in fds:
            os.close(fd)
        return None
    return Child(sandbox_id, int.from_bytes(message[5:9], 'little'), int.from_bytes(message[9:13], 'little'), fds)


def handle_frame(children, sock, zygote_pidfd, kind, sandbox_id, payload):
    child = children.get(sandbox_id)
    if kind == START:
        child = receive_child(sock, zygote_pidfd, children, sandbox_id)
        if child is None:
            send_frame(GONE, sandbox_id)
        else:
            children[sandbox_id] = child
    elif child is None:
        return
    elif kind == DATA and payload[0] in child.writers:
        child.writers[payload[0]][1] += payload[1:]
        child.write_pending(payload[0])
    elif kind == END and payload[0] in child.writers:
        child.writers[payload[0]][2] = True
        child.write_pending(payload[0])
    elif kind == KILL:
        child.kill()


def relay(sock, zygote_pidfd):
    # Between the service (frames on FROM_SERVICE and TO_SERVICE) and every
    # sandbox: its pipes, its program's process (our child, waited for here)
    # and its pid 1.
    children = {}
    inbox = bytearray()
    send_frame(READY, 0)
    last_watch = 0
    while True:
        flush_frames()
        readable = [FROM_SERVICE, zygote_pidfd]
        writable = []
        for child in children.values():
            readable.extend(child.readers)
            if child.wants_marks():
                readable.append(child.marks)
            if not child.exited:
                readable.append(child.pidfd)
            elif not child.readers:
                readable.append(child.init_pidfd)
            writable.extend(writer[0] for writer in child.writers.values() if writer[1])
        watched = [child for child in children.values() if child.watching()]
        ready, can_write, _ = select.select(readable, writable, [], WATCH_INTERVAL if watched else None)
        for child in list(children.values()):
            for fd, writer in list(child.writers.items()):
                if writer[0] in can_write:
                    child.write_pending(fd)
            for read in [fd for fd in child.readers if fd in ready]:
                data = os.read(read, 65536)
                if data:
                    send_frame(DATA, child.id, bytes([child.readers[read]]) + data)
                    continue
                send_frame(END, child.id, bytes([child.readers[read]]))
                os.close(read)
                del child.readers[read]
            if child.marks is not None and child.marks in ready:
                child.read_marks()
            if not child.exited and child.pidfd in ready:
                child.reap()
            elif child.exited and not child.readers and child.init_pidfd in ready:
                # Its pid 1 is gone, and with it (the kernel saw to it) every
                # other process of the sandbox: say so.
                child.close()
                del children[child.id]
                send_frame(GONE, child.id)
        if watched and time.monotonic() - last_watch >= WATCH_INTERVAL:
            last_watch = time.monotonic()
            for child in watched:
                if child.watching():
                    child.watch()
        if zygote_pidfd in ready:
            end_relay(children, 1)
        if FROM_SERVICE not in ready:
            continue
        data = os.read(FROM_SERVICE, 1 << 16)
        if not data:
            # The service is gone (and the zygote goes when this socket closes).
            end_relay(children, 0)
        # Every whole frame that has arrived (the service writes several at once).
        inbox += data
        for kind, sandbox_id, payload in take_frames(inbox):
            handle_frame(children, sock, zygote_pidfd, kind, sandbox_id, payload)
