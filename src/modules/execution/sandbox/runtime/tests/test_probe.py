"""The probe: which pages a process wrote, from its pagemap."""
import contextlib
import ctypes
import io
import mmap
import os
import sys
import unittest

import support

probe = support.runtime().probe
PAGE = os.sysconf('SC_PAGE_SIZE')


def entries(flags):
    """Pagemap entries (8 bytes LE each): exclusive (bit 56) where flags says so; other bits set too, which must not count."""
    return b''.join(((1 << 63) | (1 << 55) | (int(exclusive) << 56)).to_bytes(8, 'little') for exclusive in flags)


class AddOwnPagesTest(unittest.TestCase):
    def test_runs_of_exclusive_pages(self):
        runs = []
        probe.add_own_pages(runs, entries([1, 1, 0, 1, 0, 0, 1, 1, 1]), 0x10000, PAGE)
        self.assertEqual(runs, [[0x10000, 2], [0x10000 + 3 * PAGE, 1], [0x10000 + 6 * PAGE, 3]])

    def test_a_run_goes_on_into_the_next_range_only_where_it_adjoins(self):
        runs = []
        probe.add_own_pages(runs, entries([0, 1]), 0x10000, PAGE)
        probe.add_own_pages(runs, entries([1, 1]), 0x10000 + 2 * PAGE, PAGE)
        probe.add_own_pages(runs, entries([1]), 0x90000, PAGE)
        self.assertEqual(runs, [[0x10000 + PAGE, 3], [0x90000, 1]])

    def test_nothing_written(self):
        runs = []
        probe.add_own_pages(runs, entries([0, 0, 0]), 0x10000, PAGE)
        self.assertEqual(runs, [])


class MainTest(unittest.TestCase):
    def test_reports_pages_this_process_wrote(self):
        # An anonymous private mapping, half written: those pages, and no other, are this process's own.
        pages = 16
        area = mmap.mmap(-1, pages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        try:
            start = ctypes.addressof(ctypes.c_char.from_buffer(area))
            for page in range(0, pages, 2):
                area[page * PAGE] = 1
            out = io.StringIO()
            argv = sys.argv
            sys.argv = ['main.py', '%x-%x' % (start, start + pages * PAGE)]
            try:
                with contextlib.redirect_stdout(out):
                    probe.main()
            finally:
                sys.argv = argv
            lines = out.getvalue().splitlines()
            self.assertEqual(lines[0], '1')
            self.assertEqual(lines[1:], ['%d:1' % (start + page * PAGE) for page in range(0, pages, 2)])
        finally:
            area.close()


if __name__ == '__main__':
    unittest.main()
