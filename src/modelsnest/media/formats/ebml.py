"""A minimal EBML (Matroska/WebM) element reader over ``bytes``.

Hand-written because the maintained pure-Python options do not fit measuring: ``enzyme``
reads only header metadata (it never looks inside Clusters), and ``ebmlite`` is a generic,
schema-driven tree loader whose block payloads we would still have to decode ourselves.
What we need is small: element IDs, sizes (including the "unknown size" that live
recorders such as browsers' MediaRecorder write), unsigned ints and floats.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from modelsnest.media.formats.common import tick


class EBMLError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Element:
    id: int
    header_start: int
    start: int  # first byte of the payload
    size: int | None  # None: unknown size (the element runs until a sibling/parent ID appears)

    @property
    def end(self) -> int:
        if self.size is None:
            raise EBMLError("element of unknown size has no fixed end")
        return self.start + self.size


def read_vint(data: bytes, pos: int, *, max_length: int = 8) -> tuple[int, int, bool]:
    """(value without the length marker, byte length, all value bits set) at ``pos``."""
    if pos >= len(data):
        raise EBMLError("unexpected end of data")
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if first == 0 or length > max_length or pos + length > len(data):
        raise EBMLError(f"invalid variable-length integer at byte {pos}")
    value = first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def read_element(data: bytes, pos: int) -> Element:
    tick()  # every loop over elements reads them through here
    _, id_length, _ = read_vint(data, pos, max_length=4)
    element_id = int.from_bytes(data[pos : pos + id_length], "big")
    size, size_length, unknown = read_vint(data, pos + id_length)
    start = pos + id_length + size_length
    return Element(element_id, pos, start, None if unknown else size)


def read_uint(data: bytes, element: Element) -> int:
    if element.size is None or element.size > 8:
        raise EBMLError("invalid unsigned integer element")
    return int.from_bytes(data[element.start : element.end], "big")


def read_float(data: bytes, element: Element) -> float:
    raw = data[element.start : element.end] if element.size is not None else b""
    if len(raw) == 4:
        return float(struct.unpack(">f", raw)[0])
    if len(raw) == 8:
        return float(struct.unpack(">d", raw)[0])
    if not raw and element.size == 0:
        return 0.0
    raise EBMLError("invalid float element")


def children(data: bytes, parent: Element, limit: int | None = None) -> list[Element]:
    """The direct children of a master element of known size (``limit`` caps the end)."""
    end = min(parent.end, limit if limit is not None else len(data), len(data))
    found, pos = [], parent.start
    while pos < end:
        child = read_element(data, pos)
        if child.size is None or child.end > end:
            raise EBMLError("child element overruns its parent")
        found.append(child)
        pos = child.end
    return found
