"""`tillbridge barcode`, run as a user would run it."""

import json
import subprocess
import sys

GS = "\x1d"


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "tillbridge", "barcode", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_prints_one_json_object_per_scan_and_exits_0_even_for_invalid_ones():
    out = run(
        "]E05901234123457", "]C1010950600013435210ABC123" + GS + "3103000250", "5901234123450", "TBQTY006"
    )
    assert out.returncode == 0, out.stderr
    ean, gs1, bad, qty = (json.loads(line) for line in out.stdout.splitlines())
    assert (ean["kind"], ean["gtin"], ean["symbology"], ean["valid"]) == (
        "ean13",
        "5901234123457",
        "]E0",
        True,
    )
    assert (gs1["kind"], gs1["gtin"], gs1["weight_g"], gs1["weight_kg"]) == (
        "gs1",
        "9506000134352",
        250,
        0.25,
    )
    assert gs1["ais"] == {"01": "09506000134352", "10": "ABC123", "3103": "000250"}
    assert (bad["kind"], bad["valid"]) == ("invalid", False)
    assert bad["error"] == "EAN-13 check digit is 0, expected 7 (in 5901234123450)"
    assert qty["command"] == {"command": "quantity", "quantity": 6}


def test_reads_scans_from_stdin_and_takes_extra_layouts():
    out = run(
        "--layout", "22IIIIVWWWWWC", "-", stdin="2212347012501\r\n2100042001992\nTBPICKUP041001K7Q2XZ\n"
    )
    assert out.returncode == 0, out.stderr
    weighed, priced, pickup = (json.loads(line) for line in out.stdout.splitlines())
    assert (weighed["kind"], weighed["item_code"], weighed["weight_kg"]) == ("variable_measure", "1234", 1.25)
    assert (priced["item_code"], priced["price_cents"]) == ("00042", 199)  # a default layout still applies
    assert pickup["pickup"] == {"order_id": "1001", "code": "K7Q2XZ"}


def test_without_default_layouts_an_in_store_code_is_a_plain_ean13():
    out = run("--no-default-layouts", "2100042001992")
    assert json.loads(out.stdout)["kind"] == "ean13"


def test_a_bad_layout_exits_2_with_the_reason():
    out = run("--layout", "22IIIIVWWWWW", "2212347012501")
    assert out.returncode == 2
    assert out.stdout == ""
    assert "variable-measure layout '22IIIIVWWWWW' has 12 characters, expected 13" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_preset_reads_a_countrys_scale_labels():
    out = run("--preset", "DE", "2212347012501")
    assert out.returncode == 0, out.stderr
    label = json.loads(out.stdout)
    assert (label["kind"], label["item_code"], label["price_cents"]) == ("variable_measure", "1234", 1250)
    bad = run("--preset", "XX", "2212347012501")
    assert bad.returncode == 2 and "no variable-measure preset 'XX'" in bad.stderr
