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
