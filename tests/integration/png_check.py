#!/usr/bin/env python3
"""png_check.py FILE [--size WxH] [--min-colours N] [--colour RRGGBB ...]

Decodes a PNG with the standard library alone (8-bit greyscale, RGB or RGBA, not
interlaced: what headless Chromium writes) and checks that it is not blank: at least
--min-colours distinct colours (default 16), the expected size, and each --colour present
(e.g. a status badge's fill). Prints "WxH, N colours" and exits 0, or says what is wrong
and exits 1."""
import argparse
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 6: 4}


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(path):
    """Width, height and the set of (r, g, b) colours of the image."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {ctype}, "
                         f"interlace {interlace}")
    bpp = CHANNELS[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
        if bpp == 1:
            colours.update((v, v, v) for v in line)
        else:
            colours.update(zip(line[0::bpp], line[1::bpp], line[2::bpp]))
        prev = line
    return width, height, colours


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--size")
    ap.add_argument("--min-colours", type=int, default=16)
    ap.add_argument("--colour", action="append", default=[])
    args = ap.parse_args()
    try:
        width, height, colours = decode(args.file)
    except (OSError, ValueError, zlib.error, TypeError, struct.error) as e:
        print(f"{args.file}: {e}")
        return 1
    print(f"{width}x{height}, {len(colours)} colours")
    bad = []
    if args.size and args.size != f"{width}x{height}":
        bad.append(f"size {width}x{height}, expected {args.size}")
    if len(colours) < args.min_colours:
        bad.append(f"only {len(colours)} colours: blank?")
    for hexc in args.colour:
        rgb = tuple(int(hexc[i:i + 2], 16) for i in (0, 2, 4))
        if rgb not in colours:
            bad.append(f"colour #{hexc} not found")
    for b in bad:
        print(f"{args.file}: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
