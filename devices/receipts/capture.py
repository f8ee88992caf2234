"""A POS's print stream cut into receipts of text, without I/O: feed the bytes it sent, get receipts.

The stream is decoded as the printer would print it (`devices.printers.decode`), so a receipt's lines are
what is on the paper, whatever code page, styles, logos or barcodes the POS used. A receipt ends at a cut;
the end of the stream (the POS closed its connection, the printer went away) ends the one in progress,
which is marked as not cut so a template can tell a receipt cut short from a whole one. Status queries,
drawer kicks and feeds print nothing and are not part of a receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.printers.decode import Cut, EscPosDecoder, Event, Symbol, TextLine

MAX_LINES = 2000
"""A receipt longer than this is not a receipt (a runaway stream, a log dump): it is cut off and marked."""
MAX_LINE_CHARS = 200
"""Longer lines are shortened: 80 mm paper holds 64 columns in its smallest font."""
REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class CapturedReceipt:
    """The printed text of one receipt and what the reader noticed while decoding it."""

    lines: tuple[str, ...]
    cut: bool
    """False when the stream ended before a cut: the receipt may be cut short."""
    problems: tuple[str, ...] = ()
    """Why the text may not be what was meant: an unknown code page, unprintable bytes, too long."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class ReceiptReader:
    """Keeps the decoder's state between `feed()` calls; a receipt split across chunks waits for its cut."""

    def __init__(self) -> None:
        self._decoder = EscPosDecoder()
        self._lines: list[str] = []
        self._overflow = False

    def feed(self, data: bytes) -> list[CapturedReceipt]:
        """The receipts `data` completes (blank ones, a bare cut or a status poll, are left out)."""
        return self._consume(self._decoder.feed(data))

    def finish(self) -> CapturedReceipt | None:
        """The end of the stream: what was printed since the last cut, if anything (marked not cut).

        The reader is then ready for a new stream: a command the old one ended in the middle of is dropped.
        """
        self._consume(self._decoder.end())
        return self._take(cut=False)

    def _consume(self, events: list[Event]) -> list[CapturedReceipt]:
        done: list[CapturedReceipt] = []
        for event in events:
            if isinstance(event, TextLine | Symbol):
                self._add(event.text)
            elif isinstance(event, Cut):
                receipt = self._take(cut=True)
                if receipt is not None:
                    done.append(receipt)
        return done

    def _add(self, text: str) -> None:
        if len(self._lines) >= MAX_LINES:
            self._overflow = True
            return
        self._lines.append(text[:MAX_LINE_CHARS])

    def _take(self, *, cut: bool) -> CapturedReceipt | None:
        lines, overflow = self._lines, self._overflow
        unknown = sorted(self._decoder.unknown_tables)
        self._lines, self._overflow = [], False
        self._decoder.unknown_tables.clear()
        while lines and not lines[-1].strip():
            lines.pop()  # the paper fed out before the cut
        if not any(line.strip() for line in lines):
            return None
        problems: list[str] = []
        if unknown:
            problems.append("unknown code page(s) ESC t " + ", ".join(str(slot) for slot in unknown))
        elif any(REPLACEMENT in line for line in lines):
            problems.append("bytes that print as nothing readable")
        if overflow:
            problems.append(f"longer than {MAX_LINES} lines: the rest was dropped")
        return CapturedReceipt(tuple(lines), cut, tuple(problems))


def read_receipts(data: bytes) -> list[CapturedReceipt]:
    """Every receipt in a captured stream, the one left open at its end included."""
    reader = ReceiptReader()
    receipts = reader.feed(data)
    last = reader.finish()
    return receipts if last is None else [*receipts, last]
