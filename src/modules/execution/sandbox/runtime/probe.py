"""
The probe: the job a zygote runs once, at start, in a program's process like
any other (learn_hot_pages in zygote.py), to learn which of the zygote's pages
every run writes. It does what a run of print(1) does, then prints which pages
of the ranges it is given (sys.argv[1:], "start-end" in hex, as in
/proc/self/maps) are its own now, no longer shared with the zygote (written:
copied, or new), as "start:pages" lines, one per run of pages.
"""
import os
import sys

# A pagemap entry is 8 bytes, little-endian; bit 56: the page is mapped exclusively.
ENTRY_BYTES = 8
EXCLUSIVE_BYTE, EXCLUSIVE_BIT = 7, 0x01


def add_own_pages(runs, pagemap, start, page_size):
    """Appends to 'runs' ([address, pages] lists) the exclusive pages of 'pagemap', read from the entry of 'start' on."""
    for index in range(len(pagemap) // ENTRY_BYTES):
        if pagemap[index * ENTRY_BYTES + EXCLUSIVE_BYTE] & EXCLUSIVE_BIT:
            address = start + index * page_size
            if runs and runs[-1][0] + runs[-1][1] * page_size == address:
                runs[-1][1] += 1
            else:
                runs.append([address, 1])


def main():
    print(1)
    sys.stdout.flush()
    page_size = os.sysconf('SC_PAGE_SIZE')
    runs = []
    pagemap = os.open('/proc/self/pagemap', os.O_RDONLY)
    for text in sys.argv[1:]:
        start, end = (int(bound, 16) for bound in text.split('-'))
        data = os.pread(pagemap, (end - start) // page_size * ENTRY_BYTES, start // page_size * ENTRY_BYTES)
        add_own_pages(runs, data, start, page_size)
    sys.stdout.write(''.join('%d:%d\n' % (start, pages) for start, pages in runs))
