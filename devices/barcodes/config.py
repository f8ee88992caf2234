"""Per-shop barcode settings, validated and compiled once so that `interpret` only looks things up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from biip import ParseConfig

from devices.barcodes.variable_measure import DEFAULT_LAYOUTS, Layout, parse_layout
from devices.errors import BarcodeError

GS = "\x1d"


@dataclass(frozen=True)
class BarcodeConfig:
    """How this shop's barcodes read.

    `variable_measure_layouts`: the shop's scale-label layouts (see `variable_measure`); a longer literal
    prefix wins over a shorter one. `gs1_separators`: characters that stand for FNC1 between GS1 fields,
    GS by default; add the one a scanner was set to send instead, when GS does not survive the keyboard
    layout. `verify_gs1_dates`: turn off for suppliers that print all-zero dates.
    """

    variable_measure_layouts: tuple[str, ...] = DEFAULT_LAYOUTS
    gs1_separators: tuple[str, ...] = (GS,)
    verify_gs1_dates: bool = True
    layouts: tuple[Layout, ...] = field(init=False, repr=False, compare=False)
    gs1_parse_config: ParseConfig = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "variable_measure_layouts", _as_tuple(self.variable_measure_layouts, "layout")
        )
        object.__setattr__(self, "gs1_separators", _as_tuple(self.gs1_separators, "separator"))
        object.__setattr__(self, "layouts", _compile(self.variable_measure_layouts))
        _check_separators(self.gs1_separators)
        parse_config = ParseConfig(
            gs1_element_strings_verify_date=self.verify_gs1_dates, separator_chars=self.gs1_separators
        )
        object.__setattr__(self, "gs1_parse_config", parse_config)

    def with_layouts(self, *layouts: str) -> BarcodeConfig:
        """This config plus more layouts (validated like the others)."""
        return replace(self, variable_measure_layouts=(*self.variable_measure_layouts, *layouts))

    def layout_for(self, code13: str) -> Layout | None:
        for layout in self.layouts:
            if code13.startswith(layout.prefix):
                return layout
        return None


def _as_tuple(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple | list):
        raise BarcodeError(f"barcode config: give the {what}s as a list of strings, got {values!r}")
    if not all(isinstance(v, str) for v in values):
        raise BarcodeError(f"barcode config: every {what} must be a string, got {values!r}")
    return tuple(values)


def _compile(texts: tuple[str, ...]) -> tuple[Layout, ...]:
    layouts = [parse_layout(text) for text in texts]
    seen: dict[str, str] = {}
    for layout in layouts:
        other = seen.setdefault(layout.prefix, layout.text)
        if other != layout.text:
            raise BarcodeError(
                f"variable-measure layouts {other!r} and {layout.text!r} both claim prefix {layout.prefix}"
            )
    return tuple(sorted(layouts, key=lambda layout: -len(layout.prefix)))


def _check_separators(separators: tuple[str, ...]) -> None:
    for sep in separators:
        if len(sep) != 1 or (sep.isascii() and sep.isalnum()) or sep in "()":
            raise BarcodeError(
                f"GS1 separator {sep!r} must be one character that is not a letter, digit or parenthesis"
            )


DEFAULT_CONFIG = BarcodeConfig()
