"""Small cover-art JPEGs made with the standard library, for clips' `image_url`.

The docs say a clip's `image_url` is JPEG cover art (api-reference §2.5), so the
sandbox serves a real one: a download helper, an image viewer or a content-type check
in a user's test sees what it would see from the real CDN, not a 404.

The encoder is a baseline JPEG (SOF0, Huffman, 8-bit YCbCr, no subsampling) whose
8x8 blocks are each of one colour. A flat block has only a DC coefficient, so no DCT is
needed: each block is one DC difference per component followed by an end-of-block
code. The picture is a diagonal gradient between two colours picked from the clip's
style text, so each clip has its own cover and the same text gives the same bytes.
"""

from __future__ import annotations

import hashlib
import struct

__all__ = ["COVER_SIZE", "cover"]

COVER_SIZE = 128
"""Width and height of a cover in pixels (a multiple of 8)."""

# Table K.3 of ITU-T T.81: the standard luminance DC table (categories 0 to 11).
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# A two-code AC table: only end-of-block (0x00) is ever written; 0x01 pads the table so
# that no code is all ones.
_AC_BITS = (0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_AC_VALUES = (0x00, 0x01)
_QUANT = 8
"""Every quantisation step; with 8, a flat block's DC coefficient is its level minus 128."""


def _codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Return value -> (code, length) for a canonical Huffman table (T.81 Annex C)."""
    codes: dict[int, tuple[int, int]] = {}
    code, index = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


_DC_CODES = _codes(_DC_BITS, _DC_VALUES)
_EOB = _codes(_AC_BITS, _AC_VALUES)[0x00]


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._count = 0

    def write(self, value: int, length: int) -> None:
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._count += length
        while self._count >= 8:
            self._count -= 8
            byte = (self._acc >> self._count) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing (T.81 F.1.2.3)
        self._acc &= (1 << self._count) - 1

    def flush(self) -> bytes:
        if self._count:
            self.write(0xFF, 8 - self._count)  # pad the last byte with one-bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def _level(value: float) -> int:
    return max(0, min(255, round(value)))


def _ycbcr(red: float, green: float, blue: float) -> tuple[int, int, int]:
    """Return the JFIF YCbCr levels of an RGB colour, each 0..255."""
    y = 0.299 * red + 0.587 * green + 0.114 * blue
    cb = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
    cr = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
    return _level(y), _level(cb), _level(cr)


def _write_dc(bits: _BitWriter, diff: int) -> None:
    category = abs(diff).bit_length()
    code, length = _DC_CODES[category]
    bits.write(code, length)
    if category:
        bits.write(diff if diff > 0 else diff + (1 << category) - 1, category)
    bits.write(*_EOB)


def cover(style: str) -> bytes:
    """Return a JPEG cover for a clip whose style text is `style`.

    Args:
        style: Tags or a description; its hash picks the two colours of the gradient.

    Returns:
        The bytes of a `COVER_SIZE` x `COVER_SIZE` baseline JPEG (JFIF).
    """
    digest = hashlib.sha256(style.encode("utf-8", "surrogatepass")).digest()
    start, end = digest[0:3], digest[3:6]
    blocks = COVER_SIZE // 8
    bits = _BitWriter()
    previous = [0, 0, 0]
    for row in range(blocks):
        for column in range(blocks):
            share = (row + column) / (2 * blocks - 2)
            rgb = [a + (b - a) * share for a, b in zip(start, end, strict=True)]
            for component, level in enumerate(_ycbcr(*rgb)):
                dc = level - 128  # flat block: F(0,0) = 8 * (level - 128), quantised by 8
                _write_dc(bits, dc - previous[component])
                previous[component] = dc
    components = b"".join(struct.pack(">BBB", index, 0x11, 0) for index in (1, 2, 3))
    huffman = (
        bytes([0x00, *_DC_BITS, *_DC_VALUES])  # class 0 (DC), table 0
        + bytes([0x10, *_AC_BITS, *_AC_VALUES])  # class 1 (AC), table 0
    )
    scan = bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])
    return b"".join(
        (
            b"\xff\xd8",  # SOI
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),  # APP0
            _segment(0xDB, bytes([0x00, *([_QUANT] * 64)])),  # DQT, table 0
            _segment(0xC0, struct.pack(">BHHB", 8, COVER_SIZE, COVER_SIZE, 3) + components),
            _segment(0xC4, huffman),  # DHT
            _segment(0xDA, scan),  # SOS
            bits.flush(),
            b"\xff\xd9",  # EOI
        )
    )
