"""Animated PNG from PNG frames, with the standard library alone (no Pillow in the app's deps).

An APNG is a PNG whose first frame is the ordinary image (IDAT) and whose later frames are the
same image data in fdAT chunks, each announced by an fcTL chunk (size, delay); viewers without
APNG support show the first frame. Every frame must share the first one's IHDR (size, colour type,
bit depth): render them all from one QImage format.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(png: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, data) of every chunk of one PNG file; ValueError when it is not a PNG."""
    if not png.startswith(SIGNATURE):
        raise ValueError("not a PNG file")
    offset = len(SIGNATURE)
    while offset + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        yield kind, png[offset + 8:offset + 8 + length]
        offset += 12 + length


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def apng(frames: list[bytes], delays_ms: list[int], loops: int = 0) -> bytes:
    """One APNG from PNG files of equal size and format; `delays_ms[i]` shows frame i that long;
    `loops=0` repeats for ever."""
    if not frames or len(frames) != len(delays_ms):
        raise ValueError("need one delay per frame, and at least one frame")
    parsed = [list(chunks(frame)) for frame in frames]
    header = next(data for kind, data in parsed[0] if kind == b"IHDR")
    width, height = struct.unpack(">II", header[:8])
    out = [SIGNATURE, _chunk(b"IHDR", header),
           _chunk(b"acTL", struct.pack(">II", len(frames), loops))]
    sequence = 0
    for index, (frame, delay) in enumerate(zip(parsed, delays_ms, strict=True)):
        if next(data for kind, data in frame if kind == b"IHDR") != header:
            raise ValueError(f"frame {index} differs in size or format from frame 0")
        control = struct.pack(">IIIIIHHBB", sequence, width, height, 0, 0,
                              max(1, int(delay)), 1000, 0, 0)
        out.append(_chunk(b"fcTL", control))
        sequence += 1
        for kind, data in frame:
            if kind != b"IDAT":
                continue
            if index == 0:
                out.append(_chunk(b"IDAT", data))
            else:
                out.append(_chunk(b"fdAT", struct.pack(">I", sequence) + data))
                sequence += 1
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)
