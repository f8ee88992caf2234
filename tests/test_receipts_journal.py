"""Receipts become sales on the box: lines mapped to skus, journaled once through the core loop, a sale
seen both as a scan and on its receipt counted once, reprints and unreadable receipts never counted."""

from decimal import Decimal

import pytest

from devices.receipts import preset, read_receipts
from firmware_agent.receipts import ReceiptJournal, ReceiptRead, ReceiptService, unmatched_lines
from simulators.pos import Item, PosClient, Sale, money, receipt_bytes
from simulators.printer import VirtualPrinter
from tests.core_helpers import running_core
from tests.store_helpers import open_store

MILK = Item("8410000000023", "Leche entera", 99, Decimal(2))  # code: a barcode
OIL = Item("OIL-1L", "Aceite de oliva 1 L", 1095)  # code: the sku
CHEESE = Item("2002", "Queso manchego", 1890, Decimal("0.412"), "kg")  # code unknown: by name
MILK_VOID = Item("8410000000023", "Leche entera", 99, kind="void")
OIL_BACK = Item("OIL-1L", "Aceite de oliva 1 L", 1095, kind="return")
CAKE = Item("7777", "Tarta de la casa", 1500)  # not in the catalog
SALE = Sale("000123", (MILK, OIL, CHEESE, MILK_VOID))


class Journaling:
    """A service that only attaches the receipt journal to the loop (no printer in these tests)."""

    def __init__(self, combine="receipts", scanners=None):
        self.journal = ReceiptJournal(combine, scanners)

    def start(self, core):
        self.journal.attach(core)

    def stop(self):
        pass


def receipt(sale, layout="code-columns", data=None):
    (captured,) = read_receipts(data if data is not None else receipt_bytes(sale, layout))
    return ReceiptRead(preset(layout).parse(captured), captured.text)


def post(box, event):
    box.core.post(event)
    return box.next()


def stock(store, sku):
    product = store.product(sku)
    assert product is not None
    return product.stock


def moves(store, after=0):
    return [(r.kind, r.data["sku"], r.data["delta"]) for r in store.journal_after(after, 100)]


def test_a_receipt_journals_its_lines_by_code_barcode_and_name_with_voids_netted(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling()]) as box:
        applied = post(box, receipt(SALE))
        assert applied.outcome.message == "receipt 000123: 3 movement(s), 0 line(s) unmatched"
        assert moves(store) == [("sale", "MILK", -1), ("sale", "OIL-1L", -1), ("sale", "CHEESE", -412)]
        assert stock(store, "MILK") == 23 and stock(store, "CHEESE") == 3000 - 412
        post(box, receipt(Sale("000124", (OIL_BACK,))))
        assert moves(store)[-1] == ("return", "OIL-1L", 1)


def test_a_reprint_or_the_same_receipt_twice_is_not_a_second_sale_even_after_a_restart(tmp_path):
    store = open_store(tmp_path)
    journal = Journaling()
    with running_core(tmp_path, store=store, services=[journal]) as box:
        post(box, receipt(SALE))
        again = post(box, receipt(SALE))
        copy = post(box, receipt(Sale(SALE.number, SALE.items, reprint=True)))
        assert "a reprint, not counted again" in again.outcome.message
        assert "a reprint, not counted again" in copy.outcome.message
        assert box.core.counters["receipts_read"] == 1 and box.core.counters["receipts_reprints"] == 2
    store = open_store(tmp_path, catalog=False)
    with running_core(tmp_path, store=store, services=[Journaling()]) as box:
        post(box, receipt(SALE))
        assert len(moves(store)) == 3


def test_lines_that_match_no_product_go_to_the_owners_list_and_the_rest_still_counts(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling()]) as box:
        post(box, receipt(Sale("1", (CAKE, OIL))))
        post(box, receipt(Sale("2", (CAKE,))))
        assert moves(store) == [("sale", "OIL-1L", -1)]
        (entry,) = box.core.call(unmatched_lines)
        assert (entry["key"], entry["count"], entry["receipt"]) == ("7777", 2, "2")
        assert box.core.counters["receipts_unmatched_lines"] == 2


def test_a_name_the_pos_shortened_still_finds_its_product_when_only_one_starts_so(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling()]) as box:
        post(box, receipt(Sale("1", (Item("55", "Aceite de ol", 1095),)), "two-line"))
        assert moves(store) == [("sale", "OIL-1L", -1)]


def test_an_unreadable_receipt_journals_nothing_and_is_counted(tmp_path):
    store = open_store(tmp_path)
    total = money(SALE.total_cents, ",").encode()
    data = receipt_bytes(SALE).replace(total + b"\x1bE\x00", b"99,99\x1bE\x00")  # the total (bold) is wrong
    with running_core(tmp_path, store=store, services=[Journaling()]) as box:
        applied = post(box, receipt(SALE, data=data))
        assert applied.outcome.message.startswith("receipt unreadable: the lines add up to")
        assert moves(store) == []
        assert box.core.counters["receipts_unreadable"] == 1


def test_a_sale_scanned_by_the_box_and_printed_on_its_receipt_counts_once(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling("receipts")]) as box:
        box.scan("8410000000023")  # one milk through the box's scanner
        box.next()  # ... remembered for its receipt
        post(box, receipt(Sale("9", (MILK,))))  # the receipt shows two
        assert moves(store) == [("sale", "MILK", -1), ("sale", "MILK", -1)]
        assert stock(store, "MILK") == 22


def test_a_scan_waits_for_the_next_receipt_only_and_other_scanners_are_not_this_pos(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling("receipts", scanners=("front",))]) as box:
        box.scan("8410000000023")  # milk at this POS's scanner ...
        box.next()
        post(box, receipt(Sale("1", (OIL,))))  # ... but its receipt shows oil only
        one_milk = (Item("8410000000023", "Leche entera", 99),)
        post(box, receipt(Sale("2", one_milk)))  # a later milk sale counts
        box.scan("8410000000023", source="back-office")  # another scanner's sale ...
        post(box, receipt(Sale("3", one_milk)))  # ... is not this POS's
        assert moves(store) == [
            ("sale", "MILK", -1),
            ("sale", "OIL-1L", -1),
            ("sale", "MILK", -1),
            ("sale", "MILK", -1),
            ("sale", "MILK", -1),
        ]


def test_confirm_takes_back_a_scan_that_the_receipt_does_not_show(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling("confirm")]) as box:
        box.scan("8410000000016", "8410000000023")  # oil and milk scanned
        box.next(), box.next()
        post(box, receipt(Sale("9", (Item("8410000000023", "Leche entera", 99),))))  # only milk sold
        assert moves(store) == [("sale", "OIL-1L", -1), ("sale", "MILK", -1), ("adjust", "OIL-1L", 1)]
        assert store.journal_after(2, 1)[0].data["reason"] == "scanned but not on receipt 9"
        assert stock(store, "OIL-1L") == 10


def test_scans_mode_reads_and_checks_receipts_but_moves_no_stock(tmp_path):
    store = open_store(tmp_path)
    with running_core(tmp_path, store=store, services=[Journaling("scans")]) as box:
        applied = post(box, receipt(SALE))
        assert applied.outcome.message == "receipt 000123: 4 lines, checked (scans count)"
        assert moves(store) == []
        assert box.core.counters["receipts_read"] == 1


@pytest.mark.timeout(60)
def test_a_receipt_printed_through_the_box_reaches_the_journal(tmp_path):
    store = open_store(tmp_path)
    with VirtualPrinter() as printer:
        service = ReceiptService(printer.url, ("127.0.0.1", 0), preset("code-columns"))
        with running_core(tmp_path, store=store, services=[service]) as box:
            assert service.proxy is not None
            with PosClient(service.proxy.address) as pos:
                pos.print_sale(SALE)
            printer.wait_for_tickets(1)
            applied = box.next()
            assert applied.outcome.message == "receipt 000123: 3 movement(s), 0 line(s) unmatched"
            assert moves(store) == [("sale", "MILK", -1), ("sale", "OIL-1L", -1), ("sale", "CHEESE", -412)]


def test_the_config_sections_start_receipt_capture_and_the_scale_tap():
    from firmware_agent.config import validate
    from firmware_agent.scaletap import ScaleTapService
    from firmware_agent.wiring import Services

    config = validate(
        {
            "box": {"id": "b1", "shop": "s1"},
            "receipts": {"printer": "192.168.1.51:9100", "template": "two-line", "combine": "confirm"},
            "scale_tap": {"protocol": "dialog06", "pos_port": "/dev/ttyUSB0", "scale_port": "/dev/ttyUSB1"},
        },
        "test",
    )
    services = Services.build(config, None)
    assert isinstance(services.receipts, ReceiptService) and isinstance(services.scale_tap, ScaleTapService)
    assert services.receipts.journal.combine == "confirm" and services.receipts.template.name == "two-line"
    assert services.scale_tap.settings.parity == "O"  # Dialog 06's usual 7O1


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"printer": "usb://04b8:0e15"},
            "must be a network printer (host:port) unless the POS prints over USB",
        ),
        ({"printer": "10.0.0.5:9100", "template": "fancy"}, "is not a receipt template preset"),
        ({"printer": "10.0.0.5"}, "needs host:port"),
        ({"printer": "10.0.0.5:9100", "combine": "both"}, "combine"),
    ],
)
def test_a_bad_receipts_section_is_refused_naming_the_field(section, problem):
    from firmware_agent.config import InvalidConfig, validate

    with pytest.raises(InvalidConfig) as error:
        validate({"box": {"id": "b1", "shop": "s1"}, "receipts": section}, "test")
    assert problem in str(error.value)


def test_a_usb_pos_may_have_any_printer_behind_the_gadget():
    from firmware_agent.config import validate

    config = validate(
        {
            "box": {"id": "b1", "shop": "s1"},
            "receipts": {"printer": "usb://04b8:0e15", "gadget": "/dev/g_printer0"},
        },
        "test",
    )
    assert config.receipts is not None and config.receipts.gadget == "/dev/g_printer0"


RULES = {
    "sale": [r"(?P<name>[A-Za-z ]+?)\s+(?P<amount>\d+,\d\d)"],
    "total": [r"SUMA\s+(?P<total>\d+,\d\d)"],
    "number": [r"Doc\s+(?P<number>\d+)"],
}


def test_a_pos_of_its_own_gets_line_rules_in_the_config_instead_of_a_preset(tmp_path):
    from devices.receipts import ParsedReceipt
    from firmware_agent.config import validate
    from firmware_agent.wiring import Services

    receipts = {"printer": "10.0.0.5:9100", "rules": RULES}
    config = validate({"box": {"id": "b1", "shop": "s1"}, "receipts": receipts}, "test")
    services = Services.build(config, None)
    assert services.receipts is not None
    (captured,) = read_receipts(b"\x1b@Doc 17\nLeche entera  0,99\nSUMA 0,99\n\x1dV\x00")
    outcome = services.receipts.template.parse(captured)
    assert isinstance(outcome, ParsedReceipt) and (outcome.number, outcome.total_cents) == ("17", 99)


def test_a_bad_line_rule_in_the_config_is_refused_naming_its_field():
    from firmware_agent.config import InvalidConfig, validate

    rules = {**RULES, "void": [r"VOID (?P<name>\w+)"]}  # no amount group
    with pytest.raises(InvalidConfig) as error:
        validate(
            {"box": {"id": "b1", "shop": "s1"}, "receipts": {"printer": "10.0.0.5:9100", "rules": rules}}, "t"
        )
    assert "receipts.rules.void" in str(error.value) and "has no (?P<amount>…)" in str(error.value)
