"""`tillbridge receipts learn`: a captured receipt shown as text and read with a template."""

from decimal import Decimal

from simulators.pos import Item, Sale, receipt_bytes
from tillbridge.cli import main

SALE = Sale(
    "000777", (Item("1001", "Café molido", 349, Decimal(2)), Item("1001", "Café molido", 349, kind="void"))
)


def test_learn_shows_the_receipt_and_what_the_template_reads(tmp_path, capsys):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(receipt_bytes(SALE, "code-columns", codepage_slot=16))
    assert main(["receipts", "learn", str(capture), "--template", "code-columns"]) == 0
    out = capsys.readouterr().out
    assert "1001   Café molido" in out  # decoded with the receipt's own code page (CP1252)
    assert "[code-columns] receipt 000777, total 3.49:" in out
    assert "    void   1001 Café molido  1  -3.49" in out


def test_learn_fails_and_says_why_when_no_template_reads_the_receipt(tmp_path, capsys):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(receipt_bytes(SALE, "two-line"))
    assert main(["receipts", "learn", str(capture), "--template", "code-columns"]) == 1
    assert "[code-columns] notasale: no sale line and no total" in capsys.readouterr().out


def test_learn_on_a_file_without_text(tmp_path, capsys):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"\x10\x04\x01\x1dV\x00")
    assert main(["receipts", "learn", str(capture)]) == 1
    assert "no printed text" in capsys.readouterr().out


def test_learn_tries_line_rules_from_a_toml_file(tmp_path, capsys):
    capture = tmp_path / "capture.bin"
    capture.write_bytes(b"\x1b@Doc 17\nLeche entera  0,99\nSUMA 0,99\n\x1dV\x00")
    rules = tmp_path / "mine.toml"
    rules.write_text(
        "sale = ['(?P<name>[A-Za-z ]+?)\\s+(?P<amount>\\d+,\\d\\d)']\n"
        "total = ['SUMA\\s+(?P<total>\\d+,\\d\\d)']\n"
        "number = ['Doc\\s+(?P<number>\\d+)']\n"
    )
    assert main(["receipts", "learn", str(capture), "--rules", str(rules)]) == 0
    assert "[mine.toml] receipt 17, total 0.99:" in capsys.readouterr().out


def test_unmatched_lists_the_lines_no_product_matched_from_the_boxs_store(tmp_path, capsys):
    from devices.receipts import preset, read_receipts
    from firmware_agent.receipts import ReceiptJournal, ReceiptRead
    from tests.store_helpers import open_store

    store = open_store(tmp_path)
    journal = ReceiptJournal()
    (captured,) = read_receipts(receipt_bytes(Sale("000042", (Item("7777", "Tarta de la casa", 1500),))))
    with store.transaction():
        journal.on_receipt(store, ReceiptRead(preset("code-columns").parse(captured)))
    store.close()
    assert main(["receipts", "unmatched", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "    1  000042         7777   Tarta de la casa" in out


def test_unmatched_without_a_store_says_so(tmp_path, capsys):
    assert main(["receipts", "unmatched", "--data-dir", str(tmp_path)]) == 1
    assert "no store at" in capsys.readouterr().err


def test_learn_names_a_capture_or_rules_file_it_cannot_read_in_one_line(tmp_path, capsys):
    """A mistyped file name was a FileNotFoundError traceback, a broken rules file a TOMLDecodeError one."""
    capture = tmp_path / "capture.bin"
    capture.write_bytes(receipt_bytes(SALE, "code-columns", codepage_slot=16))
    broken = tmp_path / "rules.toml"
    broken.write_text("sale = = 1\n")
    missing = tmp_path / "captur.bin"
    assert main(["receipts", "learn", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"tillbridge receipts: {missing}: No such file or directory"
    assert main(["receipts", "learn", str(capture), "--rules", str(tmp_path / "none.toml")]) == 2
    assert f"{tmp_path / 'none.toml'}: No such file or directory" in capsys.readouterr().err
    assert main(["receipts", "learn", str(capture), "--rules", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tillbridge receipts: {broken}: ") and "line 1" in err and "Traceback" not in err
