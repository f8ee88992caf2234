"""Shelf labels: price changes from the shop's catalog become a list of labels to change, printed by
`tillbridge labels` on a (virtual) ESC/POS printer and cleared once printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from firmware_agent import labels
from firmware_agent.link.catalog import apply_delta, replace_catalog
from firmware_agent.store import Store
from simulators.printer import VirtualPrinter
from tests.store_helpers import open_store
from wire import CatalogDelta, Product


def delta(version: int, *products: Product) -> CatalogDelta:
    return CatalogDelta(version - 1, version, products)


def test_price_changes_from_the_shop_become_labels_to_change(tmp_path: Path) -> None:
    store = open_store(tmp_path)  # the sample catalog: oil at 10.95, ham at 24.90/kg
    try:
        with store.transaction():
            store.set_setting("catalog_version", "1")
            apply_delta(store, delta(2, Product("OIL-1L", "Aceite 1 L", 1150, ("8410000000016",))))
            apply_delta(store, delta(3, Product("OIL-1L", "Aceite 1 L", 1195, ("8410000000016",))))
            apply_delta(store, delta(4, Product("HAM", "Jamón", 2590), Product("MILK-1L", "Leche", 99)))
        listed = labels.changes(labels.pending(store))
        assert [(c.name, c.old_cents, c.new_cents, c.unit) for c in listed] == [
            ("Aceite 1 L", 1095, 1195, "each"),  # the label still shows 10.95: one label, to 11.95
            ("Jamón", 2490, 2590, "kg"),  # milk kept its price: no label
        ]
        with store.transaction():
            apply_delta(store, delta(5, Product("OIL-1L", "Aceite 1 L", 1095, ("8410000000016",))))
        assert list(labels.pending(store)) == ["HAM"]  # back to the printed price: nothing to change
    finally:
        store.close()


def test_tillbridge_labels_prints_the_list_and_clears_it(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        with store.transaction():
            replace_catalog(store, [Product("HAM", "Jamón serrano", 2590, ("2000042000004",), 5000)], 7)
    finally:
        store.close()
    command = [sys.executable, "-m", "tillbridge", "labels", "--data-dir", str(tmp_path)]
    preview = subprocess.run([*command, "--preview"], capture_output=True, text=True, timeout=60, check=True)
    assert "PRICE CHANGES" in preview.stdout and "24,90 €/kg -> 25,90 €/kg" in preview.stdout
    with VirtualPrinter() as printer:
        done = subprocess.run(
            [*command, "--printer", printer.url], capture_output=True, text=True, timeout=60, check=True
        )
        [ticket] = printer.wait_for_tickets(1)
    assert "Jamón serrano" in ticket.text and "24,90 €/kg -> 25,90 €/kg" in ticket.text
    assert "1 shelf labels printed" in done.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert again.stdout.strip() == "no shelf labels to change"


def test_a_change_noted_while_printing_stays_for_next_time(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "tillbridge.db")
    try:
        with store.transaction():
            store.upsert_products([])
            replace_catalog(store, [Product("A", "A", 100)], 1)
            apply_delta(store, delta(2, Product("A", "A", 150)))
        printed = labels.pending(store)
        with store.transaction():
            apply_delta(store, delta(3, Product("A", "A", 175)))  # while the list was printing
            assert labels.clear(store, printed) == 0
        assert labels.pending(store)["A"]["new"] == 175
    finally:
        store.close()


def test_the_labels_command_barcode_prints_the_list_and_clears_it(tmp_path: Path) -> None:
    from devices.barcodes import PrintLabels, encode_command
    from devices.printers import Printer
    from devices.readings import ScanRead
    from firmware_agent.printing import PrintService
    from firmware_agent.tickets.model import SelfTest
    from tests.core_helpers import running_core

    store = open_store(tmp_path)
    with store.transaction():
        replace_catalog(store, [Product("OIL-1L", "Aceite 1 L", 1150, ("8410000000016",), 24)], 2)
    selftest = SelfTest(box_id="b", ip="127.0.0.1", version="0", devices=(), link="no link")
    with VirtualPrinter() as printer:
        service = PrintService(Printer.from_url(printer.url), selftest=lambda: selftest, retry_s=0.05)
        with running_core(tmp_path, store=store, services=[service]) as box:
            box.core.post(ScanRead("front", encode_command(PrintLabels())))
            scan = box.next()
            while not isinstance(scan.event, ScanRead):  # the printer's status may come first
                scan = box.next()
            assert scan.outcome.message == "shelf labels: printing the list"
            [ticket] = printer.wait_for_tickets(1)
            assert "PRICE CHANGES" in ticket.text and "10,95 € -> 11,50 €" in ticket.text
            while box.core.call(lambda s: labels.pending(s)):  # cleared once the printer has it
                box.next()
