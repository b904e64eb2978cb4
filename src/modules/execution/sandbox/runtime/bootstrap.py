"""
The first code of every sandbox's Python (python3 -I -c <this file>): loads the
runtime the service writes on fd 3, ahead of the job, and runs it. Nothing of
the host's files is visible in a sandbox, so the runtime comes on that pipe.

On fd 3: the Python version the runtime was compiled for (sys.hexversion;
0: sources, compiled here), 4 bytes LE; the length of the rest, 4 bytes LE;
then, in marshal format, a dict:
  main      the module whose main() runs,
  protocol  the constants shared with the service (protocol.json),
  modules   [name, code object or source] in the order they load.
They become the package _coderunner (they import one another relatively), so
a job's own modules are never shadowed by them: a job's program.py is its own.
"""
import marshal
import os
import sys

PACKAGE = '_coderunner'


def read_exactly(fd, size):
    data = b''
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise SystemExit('coderunner: no runtime on fd %d' % fd)
        data += chunk
    return data


def add_module(package, name):
    module = type(sys)(PACKAGE + '.' + name)
    module.__package__ = PACKAGE
    sys.modules[module.__name__] = module
    setattr(package, name, module)
    return module


def load(bundle):
    """Makes the bundle's modules, its protocol module first; returns its main module."""
    package = type(sys)(PACKAGE)
    package.__path__ = []
    sys.modules[PACKAGE] = package
    vars(add_module(package, 'protocol')).update(bundle['protocol'])
    for name, code in bundle['modules']:
        if isinstance(code, str):
            # The name compiler.py gives it too; in <>, so a traceback never reads a job's file of that name.
            code = compile(code, '<%s>' % name, 'exec')
        exec(code, vars(add_module(package, name)))
    return getattr(package, bundle['main'])


def main():
    version = int.from_bytes(read_exactly(3, 4), 'little')
    if version not in (0, sys.hexversion):
        raise SystemExit('coderunner: the runtime was compiled for another Python version; restart the service')
    load(marshal.loads(read_exactly(3, int.from_bytes(read_exactly(3, 4), 'little')))).main()


if __name__ == '__main__':
    main()
