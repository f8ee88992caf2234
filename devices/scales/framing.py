"""Cutting a byte stream into frames, resynchronising after line noise.

One rule for every protocol: at each position either a whole frame matches there, or the bytes from there
could still grow into one (wait for more), or the byte is noise (skip it, count it). The decision depends
only on bytes already seen, so feeding a stream whole or one byte at a time yields the same frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MASK_7BIT = bytes(b & 0x7F for b in range(256))
"""Translation table that drops bit 7: on a 7-bit line read as 8N1 that bit is the parity bit."""

Incomplete = Callable[[bytes], bool]
"""Given the bytes from a candidate frame start to the end of the buffer: may a frame still end here?"""


def until(terminator: bytes, start: bytes, max_len: int) -> Incomplete:
    """A frame that opens with `start` and ends at `terminator`; a second `start` means resynchronise."""

    def incomplete(rest: bytes) -> bool:
        body = rest[1:]
        return rest[:1] == start and len(rest) < max_len and terminator not in body and start not in body

    return incomplete


def fixed(length: int, prefixes: tuple[bytes, ...]) -> Incomplete:
    """A fixed-length frame opening with one of `prefixes` (its body may contain any byte)."""

    def incomplete(rest: bytes) -> bool:
        return len(rest) < length and any(p.startswith(rest[: len(p)]) for p in prefixes)

    return incomplete


def line(terminator: bytes, max_len: int, starts: bytes) -> Incomplete:
    """Text lines with no start marker: a line may open with any byte of `starts` (bounded length)."""

    def incomplete(rest: bytes) -> bool:
        return rest[0] in starts and len(rest) < max_len and terminator not in rest

    return incomplete


class Framer:
    """Holds the unframed tail of the stream between `feed` calls; `skipped` counts noise bytes dropped."""

    def __init__(
        self, pattern: re.Pattern[bytes], incomplete: Incomplete, *, max_len: int, mask_bit7: bool
    ) -> None:
        self._pattern = pattern
        self._incomplete = incomplete
        self._window = max_len + 1  # `incomplete` never needs to see further than one frame
        self._mask = mask_bit7
        self._buffer = b""
        self.skipped = 0

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer + (data.translate(MASK_7BIT) if self._mask else data)
        frames: list[bytes] = []
        pos = 0
        while pos < len(buffer):
            match = self._pattern.match(buffer, pos)
            if match and match.end() > pos:
                frames.append(match.group())
                pos = match.end()
            elif self._incomplete(buffer[pos : pos + self._window]):
                break
            else:
                self.skipped += 1
                pos += 1
        self._buffer = buffer[pos:]
        return frames

    def reset(self) -> None:
        """Forget a partial frame: it can never complete once the exchange it belonged to is over."""
        self.skipped += len(self._buffer)
        self._buffer = b""

    @property
    def pending(self) -> bytes:
        return self._buffer
