"""PNG chunk checksums, verified over the encoded bytes before Pillow parses them.

Pillow checks the CRC of the header chunks only: the CRCs of IDAT and of every chunk after it are
read and ignored while decoding, so a PNG whose pixel data was damaged in transit decodes into
wrong pixels without an error. :func:`check_png_chunks` walks every chunk instead.
"""

from __future__ import annotations

import struct
import zlib

from model.describe.errors import ImageError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNK_LENGTH = 2**31 - 1  # the PNG specification's limit


def check_png_chunks(data: bytes) -> None:
    """Raise ``image_corrupt`` for a chunk whose CRC is wrong, ``image_truncated`` for one cut short.

    Walks from the signature to IEND (bytes after IEND are ignored). A stream that ends on a chunk
    boundary without IEND is left to the decoder, which reports missing pixel data itself.
    """
    view = memoryview(data)
    offset = len(PNG_SIGNATURE)
    while offset < len(view):
        if offset + 8 > len(view):
            raise ImageError("image_truncated", f"the PNG ends inside a chunk header at byte {offset}")
        length, kind = struct.unpack_from(">I4s", view, offset)
        if length > _MAX_CHUNK_LENGTH:
            raise ImageError("image_corrupt", f"a PNG chunk at byte {offset} claims {length} bytes")
        end = offset + 8 + length
        if end + 4 > len(view):
            raise ImageError("image_truncated", f"the PNG's {_name(kind)} chunk at byte {offset} is cut short")
        (stored,) = struct.unpack_from(">I", view, end)
        if zlib.crc32(view[offset + 4:end]) != stored:
            raise ImageError("image_corrupt", f"the PNG's {_name(kind)} chunk at byte {offset} fails its CRC check")
        if kind == b"IEND":
            return
        offset = end + 4


def _name(kind: bytes) -> str:
    return kind.decode("ascii", "replace")
