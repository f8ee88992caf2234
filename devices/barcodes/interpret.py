"""`interpret`: from the text of one scan to a `Barcode`. Pure, and it never raises on scan data.

The AIM symbology identifier, when the scanner sends one, decides how the data is read. Without it the data
decides: 8/12/13/14 digits are GTINs, a GS, a `(01)` or `01` + a valid GTIN mean GS1 element strings,
`TB…` a staff code; anything else is `other` text, for the catalog to try as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from devices.barcodes import aim
from devices.barcodes.commands import PREFIX, decode_command
from devices.barcodes.config import DEFAULT_CONFIG, BarcodeConfig
from devices.barcodes.gs1 import looks_like_hri, read_gs1
from devices.barcodes.gtin import check_digit, expand_upce, verify_check_digit
from devices.barcodes.model import Barcode, Kind
from devices.barcodes.pickup import PICKUP_PREFIX, decode_pickup
from devices.barcodes.variable_measure import Layout
from devices.errors import BarcodeError

_LINE_END = " \t\r\n"  # not str.strip(): that would also eat a leading GS, which stands for FNC1


def interpret(raw: str | bytes, config: BarcodeConfig = DEFAULT_CONFIG) -> Barcode:
    """What one scan means; a scan that cannot be read comes back as `Kind.INVALID` with an `error`."""
    text = _text(raw)
    symbology, data = aim.split_symbology(text.strip(_LINE_END))
    scan = Barcode(raw=text, kind=Kind.OTHER, data=data, symbology=symbology)
    try:
        return _read(scan, config)
    except BarcodeError as exc:
        return replace(scan, kind=Kind.INVALID, error=str(exc))


def _text(raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read(scan: Barcode, config: BarcodeConfig) -> Barcode:
    if not scan.data:
        raise BarcodeError(
            "empty scan" if scan.symbology is None else f"{scan.symbology} scan carries no data"
        )
    reader = _READERS.get(scan.symbology or "", _text_or_guess)
    return reader(scan, scan.data, config)


def _text_or_guess(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    """Symbologies that carry text (or none named): staff codes and URLs first, shapes only if unnamed."""
    if data[:2].upper() == PREFIX and data.isascii():
        return _staff_code(scan, data.upper())
    if data.startswith(("http://", "https://")):
        return _digital_link(scan, data, config)
    if scan.symbology is None:
        return _guess(scan, data, config)
    return scan


def _digits(data: str, *lengths: int) -> bool:
    return len(data) in lengths and data.isascii() and data.isdigit()


def _length_error(data: str, name: str, lengths: str) -> BarcodeError:
    shown = data if len(data) <= 40 else data[:40] + "…"
    return BarcodeError(f"{name} data must be {lengths} digits, got {shown!r}")


def _ean_upc(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    if _digits(data, 13):
        return _gtin13(scan, data, config)
    if _digits(data, 12):
        return _gtin13(scan, "0" + data, config)
    if _digits(data, 8):
        return _upce(scan, data)
    raise _length_error(data, "EAN/UPC", "8, 12 or 13")


def _gtin13(scan: Barcode, code13: str, config: BarcodeConfig) -> Barcode:
    """EAN-13, or UPC-A when it starts with 0; in-store codes go through the shop's layouts."""
    upc = code13[0] == "0"
    gtin = code13[1:] if upc else code13
    verify_check_digit(gtin, "UPC-A" if upc else "EAN-13")
    scan = replace(scan, kind=Kind.UPCA if upc else Kind.EAN13, gtin=gtin, gtin14="0" + code13)
    if code13[0] != "2" and not code13.startswith("02"):
        return scan
    layout = config.layout_for(code13)
    if layout is None:
        return replace(scan, note=f"in-store code (prefix {gtin[:2]}) matches no variable-measure layout")
    return _measured(scan, layout, code13)


def _measured(scan: Barcode, layout: Layout, code13: str) -> Barcode:
    measure = layout.read(code13)
    return replace(
        scan,
        kind=Kind.VARIABLE_MEASURE,
        item_code=measure.item_code,
        item_key=measure.key,
        weight_g=measure.weight_g,
        price_cents=measure.price_cents,
    )


def _ean8_only(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    if not _digits(data, 8):
        raise _length_error(data, "EAN-8", "8")
    return _ean8(scan, data)


def _itf(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    return _gtin14(scan, data) if _digits(data, 14) else _text_or_guess(scan, data, config)


def _ean8(scan: Barcode, data: str) -> Barcode:
    verify_check_digit(data, "EAN-8")
    return replace(scan, kind=Kind.EAN8, gtin=data, gtin14=data.zfill(14))


def _upce(scan: Barcode, data: str) -> Barcode:
    upca = expand_upce(data)
    verify_check_digit(upca, "UPC-E", shown=data)
    return replace(scan, kind=Kind.UPCE, gtin=upca, gtin14=upca.zfill(14))


def _gtin14(scan: Barcode, data: str) -> Barcode:
    verify_check_digit(data, "GTIN-14")
    return replace(scan, kind=Kind.GTIN14, gtin=data, gtin14=data)


def _ean_with_addon(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    """EAN/UPC followed by a 2- or 5-digit add-on; vendors differ in which `]E1`–`]E3` they send."""
    if not data.isascii() or not data.isdigit():
        raise _length_error(data, "EAN/UPC with add-on", "8 to 18")
    size = {10: 8, 13: 13, 14: 12, 15: 13, 17: 12, 18: 13}.get(len(data), len(data))
    main = replace(scan, data=data[:size])
    read = _ean8_or_upce(main, data[:size]) if size == 8 else _ean_upc(main, data[:size], config)
    return replace(read, addon=data[size:] or None)


def _gs1(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    gs1 = read_gs1(data, config.gs1_parse_config)
    gtin = gs1.gtin14
    if gtin is not None and gtin[0] == "0":
        gtin = gtin[1:]
    return replace(
        scan,
        kind=Kind.GS1,
        gtin=gtin,
        gtin14=gs1.gtin14,
        weight_g=gs1.weight_g,
        price_cents=gs1.price_cents,
        ais=gs1.ais,
    )


def _staff_code(scan: Barcode, upper: str) -> Barcode:
    if upper.startswith(PICKUP_PREFIX):
        return replace(scan, kind=Kind.PICKUP, pickup=decode_pickup(upper))
    command = decode_command(upper)
    if command is None:
        return scan
    return replace(scan, kind=Kind.COMMAND, command=command)


def _digital_link(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    """A URL: a GS1 Digital Link when biip can read one, any other link is just text."""
    try:
        return _gs1(scan, data, config)
    except BarcodeError as exc:
        return replace(scan, note=f"a URL, not a GS1 Digital Link ({exc})")


def _guess(scan: Barcode, data: str, config: BarcodeConfig) -> Barcode:
    """No symbology identifier: read the data's shape."""
    if _digits(data, 8):
        return _ean8_or_upce(scan, data)
    if _digits(data, 12, 13):
        return _ean_upc(scan, data, config)
    if _digits(data, 14):
        return _gtin14(scan, data)
    if _looks_like_gs1(data, config):
        return _gs1(scan, data, config)
    return scan


def _ean8_or_upce(scan: Barcode, data: str) -> Barcode:
    """Eight digits may be either; EAN-8 wins when its check digit fits (UPC-E is rare outside the US)."""
    try:
        return _ean8(scan, data)
    except BarcodeError:
        if data[0] not in "01" or check_digit(expand_upce(data)[:-1]) != int(data[-1]):
            raise
        return _upce(scan, data)


def _looks_like_gs1(data: str, config: BarcodeConfig) -> bool:
    if looks_like_hri(data) or any(sep in data for sep in config.gs1_separators):
        return True
    head = {"00": 20, "01": 16}.get(data[:2])
    return (
        head is not None
        and len(data) >= head
        and data[2:head].isascii()
        and data[2:head].isdigit()
        and check_digit(data[2 : head - 1]) == int(data[head - 1])
    )


_Reader = Callable[[Barcode, str, BarcodeConfig], Barcode]
_READERS: dict[str, _Reader] = {
    **dict.fromkeys(aim.EAN_UPC, _ean_upc),
    **dict.fromkeys(aim.EAN8, _ean8_only),
    **dict.fromkeys(aim.EAN_ADDON, _ean_with_addon),
    **dict.fromkeys(aim.GS1, _gs1),
    **dict.fromkeys(aim.ITF, _itf),
}
