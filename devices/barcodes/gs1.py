"""GS1 element strings (GS1-128, GS1 DataMatrix/QR, DataBar) and GS1 Digital Link URIs, read with biip.

biip does the AI table and the field patterns; this module turns its result into plain strings and
integers for the box, checks the check digits of the identifiers the box looks up, and rewords biip's
exceptions into one `BarcodeError` that says the data is GS1 and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from types import MappingProxyType

from biip import ParseConfig, ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

from devices.barcodes.gtin import verify_check_digit
from devices.errors import BarcodeError

_CHECKED_AIS = {"00": "SSCC in AI (00)", "01": "GTIN-14 in AI (01)", "02": "GTIN-14 in AI (02)"}
_WEIGHT_KG = "310"  # 310n: net weight in kg with n decimals
_PRICE = ("392", "393")  # 392n: price, 393n: ISO 4217 currency then price, n decimals


@dataclass(frozen=True)
class GS1Data:
    ais: Mapping[str, str]
    gtin14: str | None
    weight_g: int | None
    price_cents: int | None


def read_gs1(data: str, config: ParseConfig) -> GS1Data:
    """Read element strings (`01…10…␝3103…`), HRI (`(01)…(10)…`) or a Digital Link; raise `BarcodeError`."""
    elements = _parse(data, config)
    if not elements:
        raise BarcodeError("GS1 barcode carries no element strings")
    ais: dict[str, str] = {}
    for element in elements:
        _collect(ais, element)
    return GS1Data(
        ais=MappingProxyType(ais),
        gtin14=ais.get("01"),
        weight_g=_scaled(elements, (_WEIGHT_KG,), 1000),
        price_cents=_scaled(elements, _PRICE, 100),
    )


def looks_like_hri(data: str) -> bool:
    """`(01)…`: the human-readable form, typed by hand or sent by scanners set to add parentheses."""
    close = data.find(")", 1, 6)
    return data[:1] == "(" and close > 2 and data[1:close].isdigit()


def _parse(data: str, config: ParseConfig) -> list[GS1ElementString]:
    try:
        if looks_like_hri(data):
            return list(GS1Message.parse_hri(data, config=config).element_strings)
        if data.startswith(("http://", "https://")):
            return list(GS1DigitalLinkURI.parse(data, config=config).element_strings)
        return list(
            GS1Message.parse(data.lstrip("".join(config.separator_chars)), config=config).element_strings
        )
    except (ParseError, ValueError, ArithmeticError, LookupError) as exc:
        raise BarcodeError(f"GS1 data is not valid: {exc}") from exc


def _collect(ais: dict[str, str], element: GS1ElementString) -> None:
    ai, value = element.ai.ai, element.value
    if ais.setdefault(ai, value) != value:
        raise BarcodeError(f"GS1 AI ({ai}) appears twice with different values: {ais[ai]!r} and {value!r}")
    if ai in _CHECKED_AIS:
        verify_check_digit(value, _CHECKED_AIS[ai])
    elif element.gln_error:
        raise BarcodeError(f"GS1 AI ({ai}): {element.gln_error}")


def _scaled(elements: Iterable[GS1ElementString], prefixes: tuple[str, ...], factor: int) -> int | None:
    """The first decimal AI whose number starts with one of `prefixes`, in 1/`factor` units, rounded."""
    for element in elements:
        if element.ai.ai.startswith(prefixes) and element.decimal is not None:
            return int((element.decimal * factor).to_integral_value(ROUND_HALF_UP))
    return None
