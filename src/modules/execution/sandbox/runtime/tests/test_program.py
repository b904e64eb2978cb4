"""The program's process: reading its job, its limits, its marks, its files, its report."""
import json
import os
import resource
import threading
import types
import unittest

import support

program = support.runtime().program


def fixture():
    with open(os.path.join(os.path.dirname(__file__), 'job.marshal.json'), encoding='utf-8') as f:
        return json.load(f)


def pipe_with(data, piece):
    """The read end of a pipe that gets 'data' 'piece' bytes at a time, from a thread, then ends."""
    read_end, write_end = os.pipe()

    def write():
        for start in range(0, len(data), piece):
            os.write(write_end, data[start:start + piece])
        os.close(write_end)
    thread = threading.Thread(target=write)
    thread.start()
    return read_end, thread


class ReadJobTest(unittest.TestCase):
    def read_in_pieces(self, data, piece):
        fd, thread = pipe_with(data, piece)
        try:
            return program.read_job(fd)
        finally:
            thread.join()
            os.close(fd)

    def test_reads_what_marshal_ts_writes(self):
        # Bytes made by marshal.ts (marshal.spec.ts checks they still are), with the length the service puts first.
        job = fixture()
        data = bytes.fromhex(job['marshalled'])
        framed = len(data).to_bytes(4, 'little') + data
        for piece in (len(framed), 7, 1):
            with self.subTest(piece=piece):
                self.assertEqual(self.read_in_pieces(framed, piece), job['value'])

    def test_reads_only_its_own_bytes(self):
        # The job is followed by nothing the program may read as its own: a second job stays in the pipe.
        one = support.framed_job({'code': 'a'})
        fd, thread = pipe_with(one + support.framed_job({'code': 'b'}), 3)
        try:
            self.assertEqual(program.read_job(fd), {'code': 'a'})
            self.assertEqual(program.read_job(fd), {'code': 'b'})
        finally:
            thread.join()
            os.close(fd)

    def test_an_early_end_is_an_error(self):
        fd, thread = pipe_with(b'12345', 2)
        try:
            with self.assertRaises(EOFError):
                program.read_exactly(fd, 6)
        finally:
            thread.join()
            os.close(fd)

    def test_a_job_cut_short_is_an_error(self):
        framed = support.framed_job({'code': 'print(1)'})
        for end in (0, 2, 4, len(framed) - 1):
            with self.subTest(end=end):
                with self.assertRaises(EOFError):
                    self.read_in_pieces(framed[:end], 1)


class LimitsTest(unittest.TestCase):
    LIMITS = {'cpu_seconds': 3, 'processes': 64, 'file_size_kb': 16, 'open_files': 256, 'address_space_mb': 128, 'tree_memory_mb': 192}

    def test_every_rlimit_from_the_job(self):
        self.assertEqual(program.rlimits(self.LIMITS), [
            (resource.RLIMIT_CORE, 0, 0),
            # A second more before the hard limit: SIGXCPU first, which the service reports as a timeout.
            (resource.RLIMIT_CPU, 3, 4),
            (resource.RLIMIT_NPROC, 64, 64),
            (resource.RLIMIT_FSIZE, 16 * 1024, 16 * 1024),
            (resource.RLIMIT_NOFILE, 256, 256),
            (resource.RLIMIT_AS, 128 * 1024 * 1024, 128 * 1024 * 1024),
        ])

    def test_no_address_space_limit_for_javascript(self):
        limits = dict(self.LIMITS, address_space_mb=None)
        self.assertNotIn(resource.RLIMIT_AS, [which for which, _, _ in program.rlimits(limits)])

    def test_the_start_mark_carries_the_tree_limit(self):
        mark = program.start_mark(self.LIMITS)
        self.assertEqual(len(mark), program.START_BYTES)
        self.assertEqual(mark[:1], b'S')
        self.assertEqual(program.tree_limit_bytes(mark), 192 * 1024 * 1024)
        self.assertEqual(program.tree_limit_bytes(program.start_mark(dict(self.LIMITS, tree_memory_mb=None))), 0)


class MarksTest(unittest.TestCase):
    def test_marks_come_from_the_protocol(self):
        marks = support.protocol()['marks']
        self.assertEqual(program.READY_MARK, marks['ready'].encode())
        self.assertEqual(program.START_MARK, marks['start'].encode())
        self.assertEqual(program.MEMORY_MARK, marks['memory'].encode())
        self.assertEqual(len({program.READY_MARK, program.START_MARK, program.MEMORY_MARK}), 3)
        self.assertEqual((program.JOB_FD, program.REPORT_FD), (3, 4))


class SafePathTest(unittest.TestCase):
    def test_keeps_paths_inside_the_working_directory(self):
        self.assertEqual(program.safe_path('main.py'), 'main.py')
        self.assertEqual(program.safe_path('./pkg//./util.py'), 'pkg/util.py')

    def test_refuses_paths_that_leave_it(self):
        for path in ('', '.', '/etc/passwd', '../x.py', 'a/../../x.py', 'a/..', '..'):
            with self.subTest(path=path):
                with self.assertRaises(ValueError):
                    program.safe_path(path)


class ReportTest(unittest.TestCase):
    USAGE = types.SimpleNamespace(ru_utime=0.5, ru_stime=0.25, ru_maxrss=2048)

    def report(self, status, memory_error=False):
        return json.loads(program.format_report(status, self.USAGE, 1.5, memory_error))

    def test_an_exit(self):
        self.assertEqual(self.report(3 << 8), {
            'exit_code': 3, 'signal': None, 'cpu_ms': 750, 'wall_ms': 1500, 'max_rss_kb': 2048, 'memory_error': False,
        })

    def test_a_signal(self):
        report = self.report(9, memory_error=True)
        self.assertEqual((report['exit_code'], report['signal'], report['memory_error']), (None, 9, True))


if __name__ == '__main__':
    unittest.main()
