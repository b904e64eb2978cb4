"""
What the tests share: the runtime's modules loaded as a sandbox loads them
(bootstrap.load, from the sources beside this directory), and a way to run
bootstrap.py as the service does, with a runtime and a job on fd 3.
"""
import fcntl
import json
import marshal
import os
import sys

RUNTIME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, RUNTIME)

# After the path they are found on.
import bootstrap  # noqa: E402
import compiler  # noqa: E402

# Every module, in an order each can load in (each imports only those before it).
MODULES = ['program', 'launcher', 'probe', 'relay', 'zygote']


def read(name):
    with open(os.path.join(RUNTIME, name), encoding='utf-8') as f:
        return f.read()


def protocol():
    return json.loads(read('protocol.json'))


def source_bundle(main, names):
    return {'main': main, 'protocol': protocol(), 'modules': [[name, read(name + '.py')] for name in names]}


def framed(bundle, version=0):
    """A runtime as the service writes it on fd 3: version, length, marshalled bundle."""
    data = marshal.dumps(bundle)
    return version.to_bytes(4, 'little') + len(data).to_bytes(4, 'little') + data


def compiled(runtime):
    """A runtime of sources compiled, as the service has PYTHON_BIN do it at start."""
    return compiler.compile_runtime(runtime)


def framed_job(job):
    data = marshal.dumps(job)
    return len(data).to_bytes(4, 'little') + data


_package = None


def runtime():
    """The package of every runtime module (runtime().program, runtime().relay, ...), loaded once."""
    global _package
    if _package is None:
        bootstrap.load(source_bundle('program', MODULES))
        _package = sys.modules[bootstrap.PACKAGE]
    return _package


def run_bootstrap(fd3, args=(), stdin=b'', cwd=None):
    """Runs python3 -I -c <bootstrap.py> with fd3 on its fd 3; returns (exit status, stdout, stderr, what it wrote on fd 4)."""
    pipes = [os.pipe() for _ in range(5)]
    # The child's ends, in fd order: it reads stdin and fd 3, writes the others.
    theirs = [read_end if fd in (0, 3) else write_end for fd, (read_end, write_end) in enumerate(pipes)]
    ours = [write_end if fd in (0, 3) else read_end for fd, (read_end, write_end) in enumerate(pipes)]
    pid = os.fork()
    if pid == 0:
        try:
            # Above every fd in use first, so that putting one in place never closes another.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in theirs]
            for target, fd in enumerate(high):
                os.dup2(fd, target)
            os.closerange(5, 1 << 16)
            if cwd:
                os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, '-I', '-c', read('bootstrap.py')] + list(args))
        finally:
            os._exit(127)
    for fd in theirs:
        os.close(fd)
    # Small enough for the pipes: written whole before anything is read.
    for fd, data in ((ours[0], stdin), (ours[3], fd3)):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
    outputs = []
    for fd in (ours[1], ours[2], ours[4]):
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(fd)
        outputs.append(b''.join(chunks))
    _, status = os.waitpid(pid, 0)
    return (status, *outputs)
