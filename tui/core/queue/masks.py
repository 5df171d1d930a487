"""Masks of one byte per row and the byte columns they are made from, all worked in C.

A `Mask` is an int whose little-endian bytes are 0 or 1, byte i for row i (`ALL`: every row).
A filter becomes a mask by `bytes.translate` over a column of codes, masks are combined as big
integers, and rows are picked by `itertools.compress` or by the positions `indices` finds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from itertools import accumulate, compress, islice, repeat
from operator import add
from typing import Final

__all__ = ["ALL", "SPARSE", "Codes", "Column", "Mask", "both", "count", "indices", "table"]

Mask = int
ALL: Final = -1
_MAX_CODES: Final = 1 << 16
#: A mask selecting at most 1/SPARSE of the rows is "sparse": its positions are found by
#: splitting it (cost per selected row), not by a pass over every row (~2 ms at 100,000).
SPARSE: Final = 12


def table(wanted: Iterable[int]) -> bytes:
    """A `bytes.translate` table mapping the wanted byte values to 1 and the rest to 0."""
    result = bytearray(256)
    for value in wanted:
        result[value] = 1
    return bytes(result)


def indices(flags: bytes) -> list[int]:
    """The positions of the 1 bytes (the others are 0), in order, found in C: when few, from the
    lengths of the runs of 0s between them; else by `compress`."""
    selected = flags.count(1)
    if selected > len(flags) // SPARSE:
        return list(compress(range(len(flags)), flags))
    # Run j of 0s ends just before 1 number j: its position is the sum of (length + 1) of the
    # runs up to j, minus 1.
    gaps = map(add, map(len, flags.split(b"\x01")), repeat(1))
    return list(islice(accumulate(gaps, initial=-1), 1, selected + 1))


def count(mask: Mask, n: int) -> int:
    """How many of `n` rows the mask selects."""
    return n if mask == ALL else mask.to_bytes(n, "little").count(1)


def both(a: Mask, b: Mask) -> Mask:
    """The rows both masks select."""
    if a == ALL:
        return b
    if b == ALL:
        return a
    return a & b


class Codes:
    """Small integer codes for the distinct values of one attribute (shared by all orderings)."""

    __slots__ = ("codes",)

    def __init__(self) -> None:
        self.codes: dict[Hashable, int] = {}

    def code(self, value: Hashable) -> int:
        code = self.codes.get(value)
        if code is None:
            code = len(self.codes)
            if code >= _MAX_CODES:
                raise OverflowError("more than 65,536 distinct values of one queue attribute")
            self.codes[value] = code
        return code

    def encode(self, values: list[Hashable]) -> list[int]:
        for value in set(values) - self.codes.keys():
            self.code(value)
        return list(map(self.codes.__getitem__, values))

    def matching(self, wanted: Callable[[Hashable], bool]) -> list[int]:
        return [code for value, code in self.codes.items() if wanted(value)]


class Column:
    """One attribute's code for every row of an ordering: low bytes, and high bytes once some
    code needs one (more than 256 distinct values), in row order."""

    __slots__ = ("high", "low")

    def __init__(self, low: bytearray, high: bytearray | None) -> None:
        self.low = low
        self.high = high

    @classmethod
    def of(cls, codes: list[int]) -> Column:
        try:
            return cls(bytearray(codes), None)  # fewer than 256 codes: C speed
        except ValueError:
            return cls(bytearray(c & 0xFF for c in codes), bytearray(c >> 8 for c in codes))

    def permuted(self, gather: Callable[[bytearray], tuple[int, ...]]) -> Column:
        high = None if self.high is None else bytearray(gather(self.high))
        return Column(bytearray(gather(self.low)), high)

    def insert(self, index: int, code: int) -> None:
        self.low.insert(index, code & 0xFF)
        if self.high is None and code > 0xFF:
            self.high = bytearray(len(self.low) - 1)
        if self.high is not None:
            self.high.insert(index, code >> 8)

    def delete(self, index: int) -> None:
        del self.low[index]
        if self.high is not None:
            del self.high[index]

    def mask(self, codes: Iterable[int]) -> Mask:
        by_high: dict[int, set[int]] = {}
        for code in codes:
            by_high.setdefault(code >> 8, set()).add(code & 0xFF)
        result = 0
        for high, lows in by_high.items():
            if self.high is None and high:
                continue  # no row has a code that large
            part = int.from_bytes(self.low.translate(table(lows)), "little")
            if self.high is not None:
                part &= int.from_bytes(self.high.translate(table((high,))), "little")
            result |= part
        return result
