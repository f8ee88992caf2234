"""`tillbridge ticket …` as an installer would run it."""

import socket
import subprocess
import sys

import pytest

from devices.printers import PaperState, Printer
from simulators.printer import VirtualPrinter
from tillbridge.cli import main


@pytest.mark.parametrize("kind", ["order", "counter", "kitchen", "handover", "control", "selftest", "prices"])
def test_preview_prints_the_decoded_ticket(kind, capsys):
    assert main(["ticket", "preview", kind, "--width", "58"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("(cut)")
    assert "ñ" in out or "[CODE128: TBMSALE]" in out or "€" in out


def test_preview_order_shows_the_pickup_qr_and_fits_58mm(capsys):
    main(["ticket", "preview", "order", "--width", "58"])
    lines = capsys.readouterr().out.splitlines()
    assert "[QR: TBPICKUP041042K7Q2]" in [line.strip() for line in lines]
    assert max(len(line) for line in lines if not line.lstrip().startswith("[")) <= 32 + len(" (cut)")


def test_preview_shows_the_order_tickets_the_box_prints_now_at_the_counter_and_in_the_kitchen(capsys):
    """`preview order` shows the older single ticket; an installer setting up stations needs to see the
    counter's copy (prices, to pay, the hand-over code in the QR) and a station's (its lines, no prices)."""
    assert main(["ticket", "preview", "counter", "--width", "58"]) == 0
    counter = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "[QR: TBOUT1043]" in counter and "Otros puestos: cocina" in counter
    assert any(line.startswith("A COBRAR") and line.endswith("21,50 €") for line in counter)
    assert main(["ticket", "preview", "kitchen"]) == 0
    kitchen = capsys.readouterr().out
    assert "Puesto: COCINA" in kitchen and "Pizza margarita" in kitchen
    assert "€" not in kitchen and "Caña" not in kitchen and "[QR:" not in kitchen


def test_preview_with_a_code_page_the_printer_lacks_is_a_one_line_error(capsys):
    assert main(["ticket", "preview", "order", "--codepage", "UTF-8"]) == 2
    assert "code page" in capsys.readouterr().err


def test_print_and_status_against_the_virtual_printer(capsys):
    with VirtualPrinter() as virtual:
        assert main(["ticket", "print", "selftest", "--printer", f"{virtual.url}?paper=58"]) == 0
        assert "tb-0042" in virtual.wait_for_tickets(1)[0].text
        virtual.set_state(paper=PaperState.OUT)
        assert main(["ticket", "status", "--printer", virtual.url]) == 1
    out = capsys.readouterr().out
    assert "online, paper ok" in out
    assert "offline, paper out" in out


def test_status_of_an_unplugged_printer_is_a_one_line_error(capsys):
    virtual = VirtualPrinter().start()
    url = virtual.url
    virtual.stop()
    assert main(["ticket", "status", "--printer", url]) == 2
    assert "cannot connect" in capsys.readouterr().err


def test_virtual_printer_command_shows_what_it_is_sent():
    command = [sys.executable, "-m", "tillbridge", "ticket", "virtual-printer", "--port", "0", "--count", "1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, encoding="utf-8") as server:
        assert server.stdout is not None
        url = server.stdout.readline().split()[3].rstrip(";")
        with Printer.from_url(url) as printer:
            ticket = printer.builder()
            ticket.line("Año 10,50 €", align="center")
            ticket.cut()
            printer.print_bytes(ticket.getvalue())
        out = server.stdout.read()
        assert server.wait(timeout=30) == 0
    assert "Año 10,50 €" in out


def test_virtual_printer_on_a_port_taken_or_out_of_range_says_so_in_one_line(capsys):
    """Both were tracebacks (OSError: address in use; OverflowError for 99999)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["ticket", "virtual-printer", "--port", str(port)]) == 2
    assert f"virtual printer: cannot listen on port {port}: Address already in use" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["ticket", "virtual-printer", "--port", "99999"])
    assert exited.value.code == 2
    assert "--port: '99999' is not a port number 0-65535" in capsys.readouterr().err
