"""ESC/POS bytes back to what would come out on paper, without I/O: feed bytes, get events.

The virtual printer, `tillbridge ticket preview` and the box's receipt capture (`devices.receipts`) all use
it, so a test that reads a decoded ticket reads what a shop assistant would read, and the box reads a POS's
receipt the way the paper shows it. It models a default-profile Epson-style printer: `ESC t n` switches the
character table (CP437 after power-on and `ESC @`), QR codes and barcodes come out as `[QR: data]` and
`[EAN13: digits]` lines, images as `[IMAGE: …]`. Styles are tracked only as far as they change what fits
on a line (double width) or what a reader notices (bold, alignment). Commands it does not know are
skipped by their length where ESC/POS defines one, else by two bytes; no input makes it raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from devices.printers.codepages import BY_SLOT, POWER_ON_SLOT, REPLACEMENT

Align = Literal["left", "center", "right"]
ESC, GS, DLE, FS, LF, HT = 0x1B, 0x1D, 0x10, 0x1C, 0x0A, 0x09
_TEXT = re.compile(rb"[\x20-\xff]+")
_NUL_TERMINATED_MAX = 255
_STREAMED = 70_000  # above any GS ( function (its length is 16 bits), below a large raster image
_LINE_MAX = 4096  # characters kept of one line: a stream without line feeds cannot fill the memory
_UNKNOWN_TABLE = {byte: REPLACEMENT for byte in range(0x7F, 0x100)}


@dataclass(frozen=True)
class TextLine:
    text: str
    columns: int  # columns taken on paper: double-width characters count twice
    align: Align = "left"
    bold: bool = False


@dataclass(frozen=True)
class Symbol:
    """A printed QR code, barcode or image, shown as one line of text."""

    kind: str  # QR, EAN13, CODE128, …, IMAGE
    data: str

    @property
    def text(self) -> str:
        return f"[{self.kind}: {self.data}]"


@dataclass(frozen=True)
class Cut:
    partial: bool


@dataclass(frozen=True)
class DrawerKick:
    pin: int  # 2 or 5


@dataclass(frozen=True)
class StatusRequest:
    """A query the printer must answer: `DLE EOT n` at once, `GS r n` after what is before it."""

    command: bytes

    @property
    def realtime(self) -> bool:
        return self.command[0] == DLE


Printed = TextLine | Symbol
Event = TextLine | Symbol | Cut | DrawerKick | StatusRequest


@dataclass(frozen=True)
class Ticket:
    """What came out between two cuts."""

    lines: tuple[Printed, ...]
    partial_cut: bool = False

    @property
    def text(self) -> str:
        """The ticket as a person reads it; the blank paper fed before the cut is left off."""
        return "\n".join(line.text for line in self.lines).rstrip("\n")

    def wider_than(self, columns: int) -> list[TextLine]:
        """Lines that would not fit on paper `columns` wide."""
        return [line for line in self.lines if isinstance(line, TextLine) and line.columns > columns]

    def render(self, columns: int) -> str:
        """The text laid out as on paper `columns` wide: aligned lines, symbols centred."""
        return "\n".join(_place(line, columns) for line in self.lines).rstrip()


def decode_tickets(data: bytes) -> list[Ticket]:
    """The tickets in a byte stream (what follows the last cut is left out)."""
    tickets: list[Ticket] = []
    lines: list[Printed] = []
    for event in EscPosDecoder().feed(data):
        if isinstance(event, Cut):
            tickets.append(Ticket(tuple(lines), event.partial))
            lines = []
        elif isinstance(event, TextLine | Symbol):
            lines.append(event)
    return tickets


def _place(line: Printed, columns: int) -> str:
    align, used = (line.align, line.columns) if isinstance(line, TextLine) else ("center", len(line.text))
    room = max(columns - used, 0)
    return (" " * {"left": 0, "center": room // 2, "right": room}[align] + line.text).rstrip()


_NEED_MORE = 0
_ALIGNMENTS: dict[int, Align] = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}

# Argument counts of the fixed-length commands, after ESC/GS/FS and the command letter.
_ESC_FIXED = {c: 1 for c in b" !%-3=?CEGJMRTUVadelrtu{"} | {c: 0 for c in b"2<@LSimv"}
_ESC_FIXED |= {c: 2 for c in b"$\\Bcf"} | {ord("p"): 3, ord("W"): 8}
_GS_FIXED = {c: 1 for c in b"!BEHIT/abfhjrw"} | {c: 2 for c in b"LPW\\$"} | {ord(":"): 0, ord("^"): 3}
_FS_FIXED = {c: 1 for c in b"!-CW?"} | {ord("&"): 0, ord("."): 0, ord("S"): 2}
_DC4_ARGS = {1: 2, 2: 2, 3: 2, 7: 1, 8: 7}
_BARCODES = dict(enumerate(["UPC-A", "UPC-E", "EAN13", "EAN8", "CODE39", "ITF", "CODABAR"]))
_BARCODES |= {65 + m: name for m, name in _BARCODES.items()}
_BARCODES |= dict(enumerate(["CODE93", "CODE128", "GS1-128", "DATABAR", "DATABAR", "DATABAR", "DATABAR"], 72))
_2D_CODES = {
    48: "PDF417",
    49: "QR",
    50: "MAXICODE",
    51: "DATABAR",
    52: "AZTEC",
    53: "AZTEC",
    54: "DATAMATRIX",
}


class EscPosDecoder:
    """Keeps the printer's state across `feed()` calls; a command split across chunks waits for the rest."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._skip = 0  # bytes still to come of a long command that is being skipped
        self.unknown_tables: set[int] = set()
        """`ESC t n` slots selected that this model does not know (their bytes print as U+FFFD); kept
        across `ESC @` so that whoever reads a whole receipt can say which table made it unreadable."""
        self.reset()

    def reset(self) -> None:
        """What `ESC @` does: table 0, plain style, the unprinted line and stored symbols dropped."""
        self._table = BY_SLOT[POWER_ON_SLOT].decode_table()
        self._bold, self._width = False, 1
        self._align: Align = "left"
        self._segments: list[tuple[str, int, bool]] = []
        self._line_chars = self._line_columns = 0
        self._stored: dict[int, bytes] = {}

    def feed(self, data: bytes) -> list[Event]:
        if self._skip:
            skipped = min(self._skip, len(data))
            self._skip -= skipped
            data = data[skipped:]
        self._buf += data
        events: list[Event] = []
        pos = 0
        while pos < len(self._buf):
            used = self._step(pos, events)
            if used == _NEED_MORE:
                break
            pos += used
        del self._buf[:pos]
        return events

    def end(self) -> list[Event]:
        """The stream is over: the line being printed comes out, a command cut off in the middle is dropped,
        and the printer state goes back to power-on for the next stream."""
        events: list[Event] = []
        self._flush(events)
        self._buf.clear()
        self._skip = 0
        self.reset()
        return events

    # -- one command ------------------------------------------------------------------------------------

    def _step(self, pos: int, out: list[Event]) -> int:
        byte = self._buf[pos]
        if byte >= 0x20:
            match = _TEXT.match(self._buf, pos)
            assert match is not None
            self._add_text(match.group().decode("latin-1").translate(self._table))
            return match.end() - pos
        handler = self._CONTROLS.get(byte)
        if handler is None:
            return 1  # CR, CAN, BEL, NUL…: nothing on paper
        return handler(self, pos, out)

    def _lf(self, pos: int, out: list[Event]) -> int:
        out.append(self._take_line())
        return 1

    def _ht(self, pos: int, out: list[Event]) -> int:
        self._add_text(" " * (8 - self._line_columns % 8))
        return 1

    def _esc(self, pos: int, out: list[Event]) -> int:
        if len(self._buf) - pos < 2:
            return _NEED_MORE
        command = self._buf[pos + 1]
        if command not in _ESC_FIXED:
            return self._esc_variable(pos)
        used = self._sized(pos, 2, _ESC_FIXED[command])
        action = self._ESC_ACTIONS.get(command)
        if used and action is not None:
            action(self, bytes(self._buf[pos + 2 : pos + used]), out)
        return used

    def _esc_variable(self, pos: int) -> int:
        avail = len(self._buf) - pos
        command = self._buf[pos + 1]
        if command == ord("*"):  # ESC * m nL nH: one band of a column image
            if avail < 5:
                return _NEED_MORE
            m, columns = self._buf[pos + 2], _word(self._buf, pos + 3)
            return self._sized(pos, 5, columns * (3 if m in (32, 33) else 1))
        if command == ord("D"):  # ESC D n1 … NUL: tab stops
            return self._until_nul(pos, 2)[0]
        return 2

    def _gs(self, pos: int, out: list[Event]) -> int:
        if len(self._buf) - pos < 2:
            return _NEED_MORE
        command = self._buf[pos + 1]
        if command not in _GS_FIXED:
            return self._gs_variable(pos, out)
        used = self._sized(pos, 2, _GS_FIXED[command])
        if used and command == ord("!"):
            self._width = (self._buf[pos + 2] >> 4 & 7) + 1
        elif used and command == ord("r"):
            out.append(StatusRequest(bytes(self._buf[pos : pos + 3])))
        return used

    def _gs_variable(self, pos: int, out: list[Event]) -> int:
        avail = len(self._buf) - pos
        if avail < 3:
            return _NEED_MORE
        command, m = self._buf[pos + 1], self._buf[pos + 2]
        if command == ord("V"):
            size = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            if avail < size:
                return _NEED_MORE
            self._flush(out)
            out.append(Cut(partial=m in (1, 49, 66, 98, 104)))
            return size
        if command == ord("k"):
            return self._barcode(pos, out)
        if command == ord("("):
            return self._gs_function(pos, out)
        if command == ord("v"):  # GS v 0 m xL xH yL yH: a raster image
            if avail < 8:
                return _NEED_MORE
            width, height = _word(self._buf, pos + 4), _word(self._buf, pos + 6)
            used = self._sized(pos, 8, width * height)
            if used:
                self._symbol(out, "IMAGE", f"{width * 8}x{height}")
            return used
        if command == ord("8") and m == ord("L"):  # GS 8 L p1..p4: graphics data with a 32-bit length
            if avail < 7:
                return _NEED_MORE
            return self._sized(pos, 7, int.from_bytes(self._buf[pos + 3 : pos + 7], "little"))
        if command == ord("*"):  # GS * x y: define a downloaded image of x*y*8 bytes
            return self._sized(pos, 4, m * self._buf[pos + 3] * 8) if avail >= 4 else _NEED_MORE
        return 2

    def _gs_function(self, pos: int, out: list[Event]) -> int:
        """GS ( x pL pH <p bytes>: QR and other 2D codes (x = k), graphics (x = L), and more."""
        if len(self._buf) - pos < 5:
            return _NEED_MORE
        used = self._sized(pos, 5, _word(self._buf, pos + 3))
        payload = bytes(self._buf[pos + 5 : pos + used])
        if used and len(payload) >= 2:
            function = self._buf[pos + 2]
            if function == ord("k"):
                self._code_2d(payload, out)
            elif function == ord("L") and payload[1] in (2, 50):
                self._symbol(out, "IMAGE", "graphics")
        return used

    def _code_2d(self, payload: bytes, out: list[Event]) -> None:
        kind, function = payload[0], payload[1]
        if function == 80:  # store the data (after the m byte)
            self._stored[kind] = payload[3:]
        elif function == 81:  # print what was stored
            data = self._stored.get(kind, b"").decode("utf-8", errors="replace")
            self._symbol(out, _2D_CODES.get(kind, "2D"), data)

    def _barcode(self, pos: int, out: list[Event]) -> int:
        m = self._buf[pos + 2]
        if m < 65:  # GS k m d1 … NUL
            used, terminated = self._until_nul(pos, 3)
            if not terminated:
                return used
            data = bytes(self._buf[pos + 3 : pos + used - 1])
        else:  # GS k m n d1 … dn
            if len(self._buf) - pos < 4:
                return _NEED_MORE
            used = self._sized(pos, 4, self._buf[pos + 3])
            data = bytes(self._buf[pos + 4 : pos + used])
        if used:
            kind = _BARCODES.get(m, "BARCODE")
            text = _code128_text(data) if kind in ("CODE128", "GS1-128") else data.decode("latin-1")
            self._symbol(out, kind, text)
        return used

    def _dle(self, pos: int, out: list[Event]) -> int:
        avail = len(self._buf) - pos
        if avail < 3:
            return _NEED_MORE if avail < 2 or self._buf[pos + 1] in (0x04, 0x05, 0x14) else 1
        command, n = self._buf[pos + 1], self._buf[pos + 2]
        if command == 0x04:  # DLE EOT n (n = 7, 8 take one more byte)
            size = 4 if n in (7, 8) else 3
            if avail < size:
                return _NEED_MORE
            out.append(StatusRequest(bytes(self._buf[pos : pos + size])))
            return size
        if command == 0x14:  # DLE DC4 fn …: fn 1 is a drawer pulse
            size = 3 + _DC4_ARGS.get(n, 0)
            if avail < size:
                return _NEED_MORE
            if n == 1:
                out.append(DrawerKick(2 if self._buf[pos + 3] == 0 else 5))
            return size
        return 3 if command == 0x05 else 1

    def _fs(self, pos: int, out: list[Event]) -> int:
        avail = len(self._buf) - pos
        if avail < 2:
            return _NEED_MORE
        command = self._buf[pos + 1]
        if command in _FS_FIXED:
            return self._sized(pos, 2, _FS_FIXED[command])
        if command == ord("p"):  # FS p n m: print a stored logo
            if avail < 4:
                return _NEED_MORE
            self._symbol(out, "IMAGE", f"logo {self._buf[pos + 2]}")
            return 4
        if command == ord("("):
            return self._sized(pos, 5, _word(self._buf, pos + 3)) if avail >= 5 else _NEED_MORE
        return 2

    _CONTROLS: ClassVar[dict[int, Callable[[EscPosDecoder, int, list[Event]], int]]] = {
        LF: _lf,
        HT: _ht,
        ESC: _esc,
        GS: _gs,
        DLE: _dle,
        FS: _fs,
    }

    # -- ESC actions ------------------------------------------------------------------------------------

    def _esc_reset(self, args: bytes, out: list[Event]) -> None:
        self.reset()

    def _esc_table(self, args: bytes, out: list[Event]) -> None:
        page = BY_SLOT.get(args[0])
        self._table = page.decode_table() if page else _UNKNOWN_TABLE
        if page is None:
            self.unknown_tables.add(args[0])

    def _esc_mode(self, args: bytes, out: list[Event]) -> None:
        self._bold, self._width = bool(args[0] & 0x08), 2 if args[0] & 0x20 else 1

    def _esc_bold(self, args: bytes, out: list[Event]) -> None:
        self._bold = bool(args[0] & 1)

    def _esc_align(self, args: bytes, out: list[Event]) -> None:
        self._align = _ALIGNMENTS.get(args[0], self._align)

    def _esc_feed_lines(self, args: bytes, out: list[Event]) -> None:
        count = max(args[0], 1 if self._segments else 0)
        out.extend(self._take_line() for _ in range(count))

    def _esc_feed_dots(self, args: bytes, out: list[Event]) -> None:
        self._flush(out)

    def _esc_drawer(self, args: bytes, out: list[Event]) -> None:
        out.append(DrawerKick(2 if args[0] in (0, 48) else 5))

    _ESC_ACTIONS: ClassVar[dict[int, Callable[[EscPosDecoder, bytes, list[Event]], None]]] = {
        ord("@"): _esc_reset,
        ord("t"): _esc_table,
        ord("!"): _esc_mode,
        ord("E"): _esc_bold,
        ord("G"): _esc_bold,
        ord("a"): _esc_align,
        ord("d"): _esc_feed_lines,
        ord("J"): _esc_feed_dots,
        ord("p"): _esc_drawer,
    }

    # -- helpers ----------------------------------------------------------------------------------------

    def _sized(self, pos: int, header: int, length: int) -> int:
        """A command of `header` bytes and `length` of data. Data longer than `_STREAMED` (images) is
        skipped as it arrives rather than held: a bogus length in garbage cannot make the buffer grow."""
        total = header + length
        avail = len(self._buf) - pos
        if avail >= total:
            return total
        if total > _STREAMED and avail >= header:
            self._skip = total - avail
            return avail
        return _NEED_MORE

    def _until_nul(self, pos: int, header: int) -> tuple[int, bool]:
        """A NUL-terminated argument: (bytes used, whether the NUL came). No NUL within 255 bytes means
        garbage, and only the header is skipped."""
        end = self._buf.find(0, pos + header, pos + header + _NUL_TERMINATED_MAX + 1)
        if end >= 0:
            return end + 1 - pos, True
        return (header if len(self._buf) - pos > header + _NUL_TERMINATED_MAX else _NEED_MORE), False

    def _add_text(self, text: str) -> None:
        room = _LINE_MAX - self._line_chars
        if room > 0:
            self._segments.append((text[:room], self._width, self._bold))
            self._line_chars += min(room, len(text))
            self._line_columns += self._width * min(room, len(text))

    def _take_line(self) -> TextLine:
        text = "".join(part for part, _, _ in self._segments)
        columns = sum(width * len(part) for part, width, _ in self._segments)
        bold = any(bold for _, _, bold in self._segments)
        self._segments, self._line_chars, self._line_columns = [], 0, 0
        return TextLine(text, columns, self._align, bold)

    def _flush(self, out: list[Event]) -> None:
        if self._segments:
            out.append(self._take_line())

    def _symbol(self, out: list[Event], kind: str, data: str) -> None:
        self._flush(out)
        out.append(Symbol(kind, data))


def _word(buf: bytearray, index: int) -> int:
    return buf[index] | buf[index + 1] << 8


def _code128_text(data: bytes) -> str:
    """CODE128 as ESC/POS sends it: `{A`/`{B`/`{C` pick the code set (set C bytes are digit pairs),
    `{{` is a literal brace, `{1` is FNC1; other `{x` are shifts and functions that print nothing."""
    out: list[str] = []
    code_set, index = "B", 0
    while index < len(data):
        byte = data[index]
        if byte == 0x7B and index + 1 < len(data):
            selector = chr(data[index + 1])
            if selector in "ABC":
                code_set = selector
            out.append({"{": "{", "1": "<FNC1>"}.get(selector, ""))
            index += 2
            continue
        out.append(f"{byte:02d}" if code_set == "C" and byte < 100 else chr(byte))
        index += 1
    return "".join(out)
