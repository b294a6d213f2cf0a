#!/usr/bin/env python3
"""pace_lines.py RATE FILE: copy FILE to stdout, its first line (a CSV header) at once and
then RATE lines a second, flushed every 50 lines: a producer that keeps producing."""
import sys
import time


def main():
    rate, path = float(sys.argv[1]), sys.argv[2]
    with open(path) as f:
        sys.stdout.write(f.readline())
        start = time.monotonic()
        for i, line in enumerate(f, 1):
            sys.stdout.write(line)
            if i % 50 == 0:
                sys.stdout.flush()
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
