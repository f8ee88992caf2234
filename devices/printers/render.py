"""Turning a ticket into ESC/POS bytes with python-escpos, with the character table chosen on purpose.

python-escpos 3.1 picks a code page per character by default ("magic encoding"): `€` ends up in table 15,
which many printers do not hold, and after `ESC @` it believes the old table is still selected. Here magic
encoding is disabled: text is encoded with the configured page and `ESC t n` is sent after every reset.
Characters the page lacks print as `?`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from devices.errors import BarcodeError, DeviceConfigError
from devices.printers.codepages import codepage
from devices.printers.config import PageSetup
from devices.printers.text import printable, wrap

Align = Literal["left", "center", "right"]
Size = Literal["normal", "tall", "double"]
_SIZE_FLAGS = {"normal": (False, False), "tall": (False, True), "double": (True, True)}
_QR_DOT_SIZE = {58: 5, 80: 6}
_CODE128_QUIET_MODULES = 20


class TicketBuilder:
    """Collects one ticket's bytes; the layouts in `firmware_agent.tickets` drive it."""

    def __init__(self, page: PageSetup | None = None) -> None:
        self.page = page or PageSetup()
        self._escpos = _dummy(self.page)
        self._slot = _profile_slot(self._escpos, self.page)
        self._style: tuple[bool, Size, Align] = (False, "normal", "left")
        self.reset()

    @property
    def columns(self) -> int:
        return self.page.columns

    def reset(self) -> None:
        """ESC @ puts the printer back on table 0, so the configured table is selected again right after."""
        self._escpos.hw("INIT")
        self._escpos._raw(b"\x1bt" + bytes([self._slot]))
        self._style = (False, "normal", "left")

    def line(
        self, text: str = "", *, bold: bool = False, size: Size = "normal", align: Align = "left"
    ) -> None:
        """One or more printed lines: `text` is word-wrapped to what fits at this size."""
        width = self.columns // 2 if size == "double" else self.columns
        self.lines(wrap(text, width), bold=bold, size=size, align=align)

    def lines(
        self, lines: Iterable[str], *, bold: bool = False, size: Size = "normal", align: Align = "left"
    ) -> None:
        """Lines the caller already fitted (see `devices.printers.text.pair`)."""
        self._set_style(bold, size, align)
        for text in lines:
            self._escpos.text(printable(text) + "\n")  # no text becomes a command (see `printable`)

    def rule(self, char: str = "-") -> None:
        self.lines([char * self.columns])

    def feed(self, count: int = 1) -> None:
        self._escpos.ln(count)

    def qr(self, data: str) -> None:
        """A QR code rendered by the printer itself (GS ( k), centred. A profile without QR support
        (TM-U220) gets the content as text instead, so what it says is still on paper."""
        if not data:
            raise BarcodeError("refusing to print an empty QR code")
        if not self._escpos.profile.supports("qrCode"):
            self.line(data, align="center")
            return
        self._set_style(False, "normal", "center")
        self._escpos.qr(data, native=True, size=_QR_DOT_SIZE[self.page.paper_mm], ec=1)

    def ean13(self, digits: str) -> None:
        if len(digits) != 13 or not digits.isdigit() or ean_check_digit(digits[:12]) != int(digits[12]):
            raise BarcodeError(f"{digits!r} is not an EAN-13 with a valid check digit")
        self._barcode(digits, "EAN13", module_width=3)

    def code128(self, data: str) -> None:
        """A CODE128 (code set B) barcode, with bars as wide as the paper allows for a reliable scan."""
        if not data or not all(" " <= char <= "~" for char in data):
            raise BarcodeError(f"{data!r}: CODE128 set B takes printable ASCII only")
        modules = 11 * (len(data) + 2) + 13 + _CODE128_QUIET_MODULES
        module_width = min(3, self.page.dots // modules)
        if module_width < 2:
            raise BarcodeError(f"{data!r} is too long for a CODE128 barcode on {self.page.paper_mm} mm paper")
        self._barcode("{B" + data.replace("{", "{{"), "CODE128", module_width)

    def cut(self, *, partial: bool = False) -> None:
        """Feed the printed part past the cutter, then cut (partial cut falls back to full if unsupported)."""
        self._escpos.cut(mode="PART" if partial else "FULL")

    def drawer(self, pin: Literal[2, 5] = 2) -> None:
        self._escpos.cashdraw(pin)

    def getvalue(self) -> bytes:
        output: bytes = self._escpos.output
        return output

    def _barcode(self, code: str, symbology: str, module_width: int) -> None:
        # `_hw_barcode`, not `barcode()`: the public one prints "Using hardware barcode renderer" to stdout
        # and may switch to a software image depending on the profile.
        self._escpos._hw_barcode(code, symbology, height=80, width=module_width, pos="BELOW", align_ct=True)
        self._style = (self._style[0], self._style[1], "center")

    def _set_style(self, bold: bool, size: Size, align: Align) -> None:
        old_bold, old_size, old_align = self._style
        double_width, double_height = _SIZE_FLAGS[size]
        self._escpos.set(
            # a size change goes out as ESC !, which also clears bold: then bold is sent again
            bold=bold if bold != old_bold or size != old_size else None,
            align=align if align != old_align else None,
            normal_textsize=size == "normal" and old_size != "normal",
            double_width=double_width and size != old_size,
            double_height=double_height and size != old_size,
        )
        self._style = (bold, size, align)


def ean_check_digit(first12: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _dummy(page: PageSetup) -> Any:
    """A python-escpos `Dummy` that encodes text with the page's table and never switches tables itself."""
    _escpos_cache()
    from escpos.printer import Dummy  # heavy (Pillow, qrcode): only when a ticket is made

    escpos_name = _escpos_codepage_name(page)
    try:
        return Dummy(profile=page.profile, magic_encode_args={"encoding": escpos_name, "disabled": True})
    except KeyError as exc:
        raise DeviceConfigError(f"unknown printer profile {page.profile!r}") from exc


PICKLE_DIR = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _escpos_cache() -> None:
    """Imports python-escpos without leaving a folder behind in /tmp at every start.

    Its `capabilities` module makes a temporary folder at import even when told where to keep its pickled
    printer profiles (`environ.get(KEY, mkdtemp())` calls `mkdtemp` first), and never removes it: one more
    in /tmp for every start of the agent, the demo or a command that prints. So the profiles go to one
    cache folder (systemd's `CACHE_DIRECTORY`, else the user's), and the import runs with a scratch folder
    as the temporary directory, removed after it when nothing but escpos's empty folder is in it.
    """
    if "escpos.capabilities" in sys.modules:
        return
    if PICKLE_DIR not in os.environ:
        os.environ[PICKLE_DIR] = str(_profile_cache())
    scratch = Path(tempfile.mkdtemp(prefix="tillbridge-escpos-"))
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        import escpos.capabilities  # noqa: F401 - imported here for its side effect, once
    finally:
        tempfile.tempdir = saved
        for leftover in [*scratch.iterdir(), scratch]:
            with contextlib.suppress(OSError):  # not empty: another thread's file, kept
                leftover.rmdir()


def _profile_cache() -> Path:
    for base in _cache_bases():
        folder = base / "tillbridge" / "escpos"
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if os.access(folder, os.W_OK | os.X_OK):
                return folder
    private = tempfile.mkdtemp(prefix="tillbridge-escpos-profiles-")
    atexit.register(shutil.rmtree, private, True)
    return Path(private)


def _cache_bases() -> list[Path]:
    bases = [Path(p) for p in (os.environ.get("CACHE_DIRECTORY"), os.environ.get("XDG_CACHE_HOME")) if p]
    with contextlib.suppress(RuntimeError):  # no home at all (a system user)
        bases.append(Path.home() / ".cache")
    return bases


def _escpos_codepage_name(page: PageSetup) -> str:
    """python-escpos spells ISO-8859-15 as ISO_8859-15."""
    return codepage(page.codepage).name.replace("ISO-", "ISO_")


def _profile_slot(escpos: Any, page: PageSetup) -> int:
    """The `ESC t n` slot this profile gives the table: profiles may number tables differently."""
    slots: dict[str, str] = escpos.profile.get_code_pages()
    name = _escpos_codepage_name(page)
    if name not in slots:
        raise DeviceConfigError(f"printer profile {page.profile!r} has no code page {page.codepage}")
    return int(slots[name])
