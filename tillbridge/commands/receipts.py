"""`tillbridge receipts`: read a captured print stream as the box does, and try a template on it.

    tillbridge receipts learn capture.bin                  # the receipts as text, read with every preset
    tillbridge receipts learn capture.bin --template two-line
    tillbridge receipts learn capture.bin --rules my-pos.toml  # the keys of the config's [receipts.rules]
    tillbridge receipts sample --layout name-amount > r.bin  # a simulated POS's receipt, to try things on
    tillbridge receipts unmatched --config /etc/tillbridge/agent.toml  # lines no product matched

A capture is the raw bytes the POS sent (`socat -u TCP-LISTEN:9100 OPEN:capture.bin`, or the bytes saved
from the POS's "print to file"). Exit status 0 when the chosen template (or, without one, any preset) reads
every sale receipt in the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def register(subparsers: Any) -> None:
    from devices.receipts import PRESETS  # a simulated POS prints each preset's layout

    parser = subparsers.add_parser("receipts", help="read captured POS receipts, try templates on them")
    sub = parser.add_subparsers(dest="receipts_command", required=True, metavar="ACTION")
    learn = sub.add_parser("learn", help="show a captured receipt as text and what a template reads in it")
    learn.add_argument("file", type=Path, help="the bytes the POS sent to its printer ('-': standard input)")
    learn.add_argument("--template", help="a preset to try (default: every preset)")
    learn.add_argument(
        "--rules",
        type=Path,
        help="a TOML file of line rules to try, the keys of the config's [receipts.rules]",
    )
    learn.set_defaults(func=_learn)
    unmatched = sub.add_parser("unmatched", help="receipt lines the box could not map to a product")
    where = unmatched.add_mutually_exclusive_group()
    where.add_argument("--config", type=Path, help="the box's agent.toml (its data_dir holds the store)")
    where.add_argument("--data-dir", type=Path, help="the box's data folder")
    unmatched.set_defaults(func=_unmatched)
    sample = sub.add_parser("sample", help="write the bytes of a simulated POS's receipt to standard output")
    sample.add_argument("--layout", choices=sorted(PRESETS), default="code-columns")
    sample.set_defaults(func=_sample)


def _read(path: Path, parse: Callable[[bytes], T]) -> T:
    """A file the user named, parsed; what is wrong with it (missing, a folder, not TOML) as one line."""
    import tomllib

    from tillbridge.cli import UserError

    try:
        return parse(path.read_bytes())
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: {exc}") from exc


def _learn(args: argparse.Namespace) -> int:
    import tomllib

    from devices.receipts import PRESETS, ParsedReceipt, ReceiptTemplate, preset, read_receipts

    data = sys.stdin.buffer.read() if str(args.file) == "-" else _read(args.file, bytes)
    if args.rules is not None:
        rules = _read(args.rules, lambda raw: tomllib.loads(raw.decode("utf-8")))
        templates = [ReceiptTemplate.from_mapping(args.rules.name, rules)]
    else:
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


def _unmatched(args: argparse.Namespace) -> int:
    """Reads the store as another process may (read-only, WAL): the agent keeps running."""
    import json

    from firmware_agent.receipts import UNMATCHED
    from firmware_agent.store.peek import read_only

    if args.data_dir is not None:
        data_dir = args.data_dir
    else:
        from firmware_agent.config import DEFAULT_CONFIG_PATH, load_config

        data_dir = load_config(args.config or DEFAULT_CONFIG_PATH).box.data_dir
    path = data_dir / "tillbridge.db"
    if not path.exists():
        print(f"no store at {path}", file=sys.stderr)
        return 1
    with read_only(path) as store:
        text = store.setting(UNMATCHED)
    entries = json.loads(text) if text else []
    if not entries:
        print("every receipt line so far matched a product")
        return 0
    print(f"{'times':>5}  {'last receipt':<14} line")
    for entry in entries:
        print(f"{entry['count']:>5}  {entry.get('receipt', ''):<14} {entry['text']}")
    print("add the code as a barcode of the product in the shop, or name the product as the POS does")
    return 0


def _money(cents: int) -> str:
    from devices.receipts.template import format_cents

    return format_cents(cents)
