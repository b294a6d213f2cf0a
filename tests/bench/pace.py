#!/usr/bin/env python3
"""pace: copy a file to standard output at a given rate, for the benchmarks (kcat.sh), so a
client can be held to another's pace.

  pace.py FILE BYTES_PER_S

Writes FILE in 256 KiB pieces, sleeping whenever it is ahead of BYTES_PER_S since it
started. Exit status 2 on a usage error, 1 when FILE cannot be read or the output closes."""
import sys
import time

PIECE = 256 * 1024


def main():
    if len(sys.argv) != 3:
        print("usage: pace.py FILE BYTES_PER_S", file=sys.stderr)
        sys.exit(2)
    try:
        rate = float(sys.argv[2])
    except ValueError:
        rate = 0
    if not rate > 0:  # NaN too
        print("pace.py: BYTES_PER_S must be a positive number, not '%s'" % sys.argv[2], file=sys.stderr)
        sys.exit(2)
    out = sys.stdout.buffer
    sent = 0
    start = time.monotonic()
    try:
        with open(sys.argv[1], "rb") as f:
            while True:
                piece = f.read(PIECE)
                if not piece:
                    break
                out.write(piece)
                out.flush()
                sent += len(piece)
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except OSError as e:
        print("pace.py: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
