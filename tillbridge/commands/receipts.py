"""`tillbridge receipts`: read a captured print stream as the box does, and try a template on it.

    tillbridge receipts learn capture.bin                  # the receipts as text, read with every preset
    tillbridge receipts learn capture.bin --template two-line
    tillbridge receipts sample --layout name-amount > r.bin  # a simulated POS's receipt, to try things on

A capture is the raw bytes the POS sent (`socat -u TCP-LISTEN:9100 OPEN:capture.bin`, or the bytes saved
from the POS's "print to file"). Exit status 0 when the chosen template (or, without one, any preset) reads
every sale receipt in the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from simulators.pos import LAYOUTS

    parser = subparsers.add_parser("receipts", help="read captured POS receipts, try templates on them")
    sub = parser.add_subparsers(dest="receipts_command", required=True, metavar="ACTION")
    learn = sub.add_parser("learn", help="show a captured receipt as text and what a template reads in it")
    learn.add_argument("file", type=Path, help="the bytes the POS sent to its printer ('-': standard input)")
    learn.add_argument("--template", help="a preset to try (default: every preset)")
    learn.set_defaults(func=_learn)
    sample = sub.add_parser("sample", help="write the bytes of a simulated POS's receipt to standard output")
    sample.add_argument("--layout", choices=sorted(LAYOUTS), default="code-columns")
    sample.set_defaults(func=_sample)


def _learn(args: argparse.Namespace) -> int:
    from devices.receipts import PRESETS, ParsedReceipt, preset, read_receipts

    data = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    templates = [preset(args.template)] if args.template else list(PRESETS.values())
    receipts = read_receipts(data)
    if not receipts:
        print(f"{args.file}: {len(data)} bytes, no printed text")
        return 1
    fitting = {t.name: 0 for t in templates}
    for number, receipt in enumerate(receipts, 1):
        print(f"--- receipt {number} ({len(receipt.lines)} lines{'' if receipt.cut else ', not cut'}) ---")
        print(receipt.text)
        for problem in receipt.problems:
            print(f"! {problem}")
        for template in templates:
            outcome = template.parse(receipt)
            if isinstance(outcome, ParsedReceipt):
                fitting[template.name] += 1
                called = outcome.number or "(no number)"
                reprint = ", reprint" if outcome.reprint else ""
                print(f"[{template.name}] receipt {called}, total {_money(outcome.total_cents)}{reprint}:")
                for line in outcome.lines:
                    what = " ".join(part for part in (line.code, line.name) if part)
                    unit = f" {line.unit}" if line.unit else ""
                    print(
                        f"    {line.kind.value:<6} {what}  {line.quantity}{unit}  {_money(line.amount_cents)}"
                    )
            else:
                print(f"[{template.name}] {type(outcome).__name__.lower()}: {outcome.reason}")
    best = max(fitting.values())
    print(f"--- {len(receipts)} receipt(s); read whole: " + ", ".join(f"{k} {v}" for k, v in fitting.items()))
    return 0 if best == len(receipts) else 1


def _sample(args: argparse.Namespace) -> int:
    from decimal import Decimal

    from simulators.pos import Item, Sale, receipt_bytes

    sale = Sale(
        "000123",
        (
            Item("8410000000023", "Leche entera 1 L", 99, Decimal(2)),
            Item("8410000000030", "Pan de pueblo", 180),
            Item("8410000000023", "Leche entera 1 L", 99, kind="void"),
        ),
    )
    sys.stdout.buffer.write(receipt_bytes(sale, args.layout))
    return 0


def _money(cents: int) -> str:
    from devices.receipts.template import format_cents

    return format_cents(cents)
