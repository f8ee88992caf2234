"""The bytes a ticket becomes: code pages chosen on purpose, features as ESC/POS defines them."""

import pytest

from devices.errors import BarcodeError, DeviceConfigError
from devices.printers import PageSetup, TicketBuilder
from devices.printers.decode import EscPosDecoder, Symbol, TextLine

INIT = bytes.fromhex("1b40")
AÑO = "Año 10,50 €"
QR_HELLO = (  # model 2, dot size 6 (80 mm), error correction M, store "HELLO", print
    "1d286b0400314132 00 1d286b03003143 06 1d286b03003145 31 1d286b080031503048454c4c4f 1d286b0300315130"
)


def built(page=None, **line_options):
    ticket = TicketBuilder(page)
    ticket.lines([AÑO], **line_options)
    return ticket.getvalue()


@pytest.mark.parametrize(
    ("codepage", "expected"),
    [
        ("CP858", "1b40 1b7413 41a46f 2031302c353020 d5 0a"),
        ("CP1252", "1b40 1b7410 41f16f 2031302c353020 80 0a"),
        ("ISO-8859-15", "1b40 1b7428 41f16f 2031302c353020 a4 0a"),
    ],
)
def test_euro_and_enye_use_the_configured_table_and_select_it(codepage, expected):
    assert built(PageSetup(codepage=codepage)) == bytes.fromhex(expected)


def test_cp858_is_the_default_and_covers_spanish_french_and_catalan_letters():
    ticket = TicketBuilder()
    ticket.lines(["çáéíóúü"])
    assert ticket.getvalue() == bytes.fromhex("1b40 1b7413 87 a0 82 a1 a2 a3 81 0a")


def test_a_character_missing_from_the_table_prints_as_a_question_mark():
    ticket = TicketBuilder(PageSetup(codepage="CP437"))
    ticket.lines(["5 €"])
    assert ticket.getvalue().endswith(b"5 ?\n")


def test_a_reset_selects_the_table_again_because_the_printer_forgets_it():
    ticket = TicketBuilder()
    ticket.reset()
    assert ticket.getvalue() == bytes.fromhex("1b40 1b7413 1b40 1b7413")


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (lambda t: t.qr("HELLO"), QR_HELLO),
        (lambda t: t.cut(), "1b6406 1d5600"),
        (lambda t: t.cut(partial=True), "1b6406 1d5601"),
        (lambda t: t.drawer(2), "1b700032 32"),
        (lambda t: t.drawer(5), "1b700132 32"),
    ],
)
def test_feature_bytes(action, expected):
    ticket = TicketBuilder()
    action(ticket)
    assert ticket.getvalue().removeprefix(bytes.fromhex("1b40 1b7413")).endswith(bytes.fromhex(expected))


def test_ean13_is_a_hardware_barcode_with_its_digits():
    ticket = TicketBuilder()
    ticket.ean13("8412345678905")
    assert bytes.fromhex("1d6b02") + b"8412345678905\x00" in ticket.getvalue()


def test_code128_uses_code_set_b_and_escapes_braces():
    ticket = TicketBuilder()
    ticket.code128("A{B")
    assert bytes.fromhex("1d6b49 06") + b"{BA{{B" in ticket.getvalue()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        ("ean13", "8412345678904"),  # wrong check digit
        ("ean13", "841234567890"),
        ("code128", "Año"),
        ("code128", ""),
        ("qr", ""),
    ],
)
def test_bad_barcode_content_is_refused_before_it_reaches_paper(call, argument):
    with pytest.raises(BarcodeError):
        getattr(TicketBuilder(), call)(argument)


def test_a_code128_too_wide_for_58mm_paper_is_refused_but_fits_80mm():
    data = "TB:MODE:RECEIVE"
    TicketBuilder(PageSetup(80)).code128(data)
    with pytest.raises(BarcodeError, match="58 mm"):
        TicketBuilder(PageSetup(58)).code128(data)


def test_building_a_ticket_prints_nothing_to_stdout(capsys):
    ticket = TicketBuilder()
    ticket.line("x", bold=True, size="double", align="center")
    ticket.qr("HELLO")
    ticket.ean13("8412345678905")
    ticket.code128("TB:M:SALE")
    ticket.cut()
    assert capsys.readouterr().out == ""


def test_styles_reach_the_paper_and_bold_survives_a_size_change():
    ticket = TicketBuilder()
    ticket.line("big", bold=True, size="double", align="center")
    ticket.line("tall", bold=True, size="tall", align="right")
    ticket.line("plain")
    lines = EscPosDecoder().feed(ticket.getvalue())
    assert lines == [
        TextLine("big", 6, "center", bold=True),
        TextLine("tall", 4, "right", bold=True),
        TextLine("plain", 5, "left", bold=False),
    ]


@pytest.mark.parametrize(("paper", "columns"), [(58, 32), (80, 48)])
def test_lines_wrap_to_the_paper_width_and_half_of_it_in_double_size(paper, columns):
    ticket = TicketBuilder(PageSetup(paper))
    ticket.line("word " * 30)
    ticket.line("word " * 30, size="double")
    printed = [e for e in EscPosDecoder().feed(ticket.getvalue()) if isinstance(e, TextLine)]
    assert max(line.columns for line in printed) <= columns
    assert len(printed[0].text) > columns - 5  # "word word …" fills the line before wrapping


def test_qr_decodes_back_to_its_payload():
    ticket = TicketBuilder()
    ticket.qr("tillbridge:pickup:1042")
    assert Symbol("QR", "tillbridge:pickup:1042") in EscPosDecoder().feed(ticket.getvalue())


def test_a_printer_without_qr_support_gets_the_content_as_text():
    ticket = TicketBuilder(PageSetup(profile="TM-U220", codepage="CP437"))
    ticket.qr("tillbridge:pickup:1042")
    assert EscPosDecoder().feed(ticket.getvalue()) == [TextLine("tillbridge:pickup:1042", 22, "center")]


def test_unknown_profile_is_a_config_error():
    with pytest.raises(DeviceConfigError, match="TM-NOPE"):
        TicketBuilder(PageSetup(profile="TM-NOPE"))


def test_init_starts_every_ticket():
    assert TicketBuilder().getvalue().startswith(INIT)
