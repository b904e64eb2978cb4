"""The launcher, end to end as SANDBOX=none runs it: bootstrap, runtime and job on fd 3, marks and report on fd 4."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import support

LIMITS = {'cpu_seconds': 10, 'processes': 4096, 'file_size_kb': 1024, 'open_files': 64, 'address_space_mb': None, 'tree_memory_mb': None}


class LauncherTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.workdir)

    def run_job(self, code, compiled=False, files=(), limits=None, stdin=b''):
        runtime = support.framed(support.source_bundle('launcher', ['program', 'launcher']))
        if compiled:
            runtime = support.compiled(runtime)
        job = {
            'runtime': 'python', 'workdir': self.workdir, 'entry': 'main.py', 'code': code, 'files': list(files),
            'args': ['x'], 'interpreter': sys.executable, 'interpreter_args': [], 'limits': dict(LIMITS, **(limits or {})),
        }
        status, out, err, report = support.run_bootstrap(runtime + support.framed_job(job), stdin=stdin)
        self.assertEqual(status, 0, err)
        # Ready, started, then the report.
        self.assertEqual(report[:2], b'RS')
        return out, err, json.loads(report[2:])

    def test_runs_a_job(self):
        for compiled in (False, True):
            with self.subTest(compiled=compiled):
                out, err, report = self.run_job(
                    'import sys, helper\nprint(helper.VALUE, sys.argv[1:], input(), __name__)',
                    compiled=compiled, files=[{'path': 'helper.py', 'content': 'VALUE = 42\n'}], stdin=b'typed\n',
                )
                self.assertEqual((out, err), (b"42 ['x'] typed __main__\n", b''))
                self.assertEqual((report['exit_code'], report['signal'], report['memory_error']), (0, None, False))
                # Its files, and nothing of the rehearsal before it.
                self.assertEqual(sorted(name for name in os.listdir(self.workdir) if name.endswith('.py')), ['helper.py', 'main.py'])

    def test_a_jobs_own_module_named_like_the_runtimes(self):
        out, _, _ = self.run_job('import program\nprint(program.MINE)', files=[{'path': 'program.py', 'content': 'MINE = "mine"\n'}])
        self.assertEqual(out, b'mine\n')

    def test_an_exit_code_and_a_traceback(self):
        out, err, report = self.run_job('print("before")\nraise SystemExit(3)')
        self.assertEqual((out, report['exit_code']), (b'before\n', 3))
        _, err, report = self.run_job('1 / 0')
        self.assertEqual(report['exit_code'], 1)
        self.assertIn(b'ZeroDivisionError', err)
        self.assertIn(b'File "main.py", line 1', err)
        self.assertNotIn(b'<program>', err)

    def test_out_of_memory_is_reported(self):
        _, err, report = self.run_job('x = bytearray(512 * 1024 * 1024)', limits={'address_space_mb': 256})
        self.assertIn(b'MemoryError', err)
        self.assertEqual((report['exit_code'], report['memory_error']), (1, True))


if __name__ == '__main__':
    unittest.main()
