"""`tillbridge labels`: print the shelf labels to change (price changes from the shop or an import), then
clear them. `--preview` shows the list as the printer would print it and clears nothing.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from firmware_agent.config import DEFAULT_CONFIG_PATH

    parser = subparsers.add_parser(
        "labels",
        help="print the shelf labels whose prices changed, then clear the list",
        description="Print the list of shelf labels to replace (each item's old and new price, per kg, l "
        "or m for what is sold by measure) on the box's printer, and clear what was printed.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="agent.toml (%(default)s)")
    where.add_argument("--data-dir", type=Path, help="the box's data folder, instead of the config's")
    parser.add_argument("--printer", metavar="URL", help="print here instead of the config's [printer] url")
    parser.add_argument(
        "--preview", action="store_true", help="show the list as text; print and clear nothing"
    )
    parser.add_argument("--barcodes", action="store_true", help="print each EAN-13 as bars, to check labels")
    parser.set_defaults(func=_labels)


def _labels(args: argparse.Namespace) -> int:
    from devices.printers import PageSetup, Printer, PrinterConfig
    from devices.printers.decode import decode_tickets
    from firmware_agent import labels
    from firmware_agent.store import Store
    from firmware_agent.tickets import TicketStyle
    from firmware_agent.tickets.layouts import price_list
    from firmware_agent.tickets.model import PriceChangeList
    from tillbridge.cli import UserError

    data_dir, configured = _where(args)
    path = data_dir / "tillbridge.db"
    if not path.exists():  # a mistyped folder would get a new, empty store and "no shelf labels to change"
        raise UserError(f"no store at {path}: give the box's data folder (--data-dir, or box.data_dir)")
    store = Store.open(path)
    try:
        pending = labels.pending(store)
        if not pending:
            print("no shelf labels to change")
            return 0
        url = args.printer or configured
        page = PrinterConfig.from_url(url).page if url else PageSetup(80)
        listing = PriceChangeList(labels.changes(pending), datetime.date.today().isoformat(), args.barcodes)
        ticket = price_list(listing, TicketStyle(page=page))
        if args.preview or not url:
            for shown in decode_tickets(ticket):
                print(shown.render(page.columns))
            if not args.preview:
                print("no printer: give --printer URL or set [printer] url in the config; nothing cleared")
                return 1
            return 0
        with Printer.from_url(url) as printer:
            printer.print_bytes(ticket)
        with store.transaction():
            cleared = labels.clear(store, pending)
    finally:
        store.close()
    print(f"{len(pending)} shelf labels printed on {url}; {cleared} cleared")
    return 0


def _where(args: argparse.Namespace) -> tuple[Path, str | None]:
    """The data folder and the configured printer url (none with --data-dir)."""
    if args.data_dir is not None:
        return Path(args.data_dir), None
    from firmware_agent.config import load_config

    config = load_config(args.config)
    return Path(config.box.data_dir), config.printer.url if config.printer is not None else None
