#!/usr/bin/env python3
"""The fsync rate of a directory's disk: appends 100-byte records to a file and fdatasyncs after
each, for a few seconds, like a write-ahead log with one writer and no group commit.

Usage: tools/fsync-probe.py [DIR] [SECONDS]   (default: the current directory, 3 s)
"""
import os
import sys
import tempfile
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "."
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
fd, path = tempfile.mkstemp(prefix="fsync-probe-", dir=directory)
try:
    record = b"x" * 100
    n = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        os.write(fd, record)
        os.fdatasync(fd)
        n += 1
    elapsed = time.monotonic() - start
    print(f"{n / elapsed:.0f} fdatasync/s ({n} in {elapsed:.2f} s) in {os.path.abspath(directory)}")
finally:
    os.close(fd)
    os.unlink(path)
