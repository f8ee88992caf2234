"""`tillbridge barcode`: show what the box makes of a scan, one JSON object per scan.

For installers checking a scale's label layout or a supplier's GS1 labels, and for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "barcode",
        help="interpret barcode scans and print what they mean as JSON",
        description="Interpret scans as the box would and print one JSON object per scan. "
        "Invalid scans still exit 0: the JSON says why they are invalid.",
    )
    parser.add_argument(
        "data", nargs="+", metavar="DATA", help="scan text; '-' reads one scan per line from stdin"
    )
    parser.add_argument(
        "--layout",
        action="append",
        default=[],
        metavar="L",
        help="add a variable-measure layout such as 22IIIIVWWWWWC (repeatable)",
    )
    parser.add_argument(
        "--no-default-layouts", action="store_true", help="use only the layouts given with --layout"
    )
    parser.add_argument(
        "--preset",
        default="",
        metavar="XX",
        help="read scale labels with a country's layouts instead of the defaults: "
        "ES, DE, FR, IT, NL, SE, GB, US (UPC-A number system 2)",
    )
    parser.add_argument(
        "--separator",
        action="append",
        default=[],
        metavar="C",
        help="a character the scanner sends for GS1's FNC1 instead of GS (repeatable)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from devices.barcodes import GS, BarcodeConfig, BarcodeError, interpret, preset_layouts

    try:
        layouts = preset_layouts(args.preset, tuple(args.layout))
        if args.no_default_layouts and not args.preset:
            layouts = tuple(args.layout)
        config = BarcodeConfig(variable_measure_layouts=layouts, gs1_separators=(GS, *args.separator))
    except BarcodeError as exc:
        print(f"tillbridge barcode: {exc}", file=sys.stderr)
        return 2
    for scan in _scans(args.data):
        print(json.dumps(interpret(scan, config).to_dict(), ensure_ascii=False), flush=True)
    return 0


def _scans(data: Sequence[str]) -> Iterator[str]:
    for item in data:
        if item == "-":
            yield from (line.rstrip("\r\n") for line in sys.stdin)
        else:
            yield item
