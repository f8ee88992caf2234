"""`tillbridge scale …` as an installer runs it: a real process, real stdin, a real pty."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

from simulators.scales import VirtualScale


def tillbridge(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tillbridge", "scale", *args], input=stdin, capture_output=True, timeout=30
    )


def json_lines(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line, parse_float=Decimal) for line in out.decode().splitlines()]


def test_decode_prints_one_json_line_per_reading_with_exact_weights():
    capture = b"noise\x02 01.230N\r\x02?A\r\x02 1#2\r\x02E\rhello"
    result = tillbridge("decode", "--protocol", "toledo8217", stdin=capture)
    assert result.returncode == 0, result.stderr
    weighed, moving, broken = json_lines(result.stdout)
    assert weighed["weight_kg"] == Decimal("1.230") and weighed["net"] is True and weighed["stable"] is True
    assert weighed["raw"] == "02 20 30 31 2e 32 33 30 4e 0d"
    assert (moving["weight_kg"], moving["stable"], moving["error"]) == (None, False, None)
    assert broken["weight_kg"] is None and broken["error"]
    assert set(weighed) >= {"weight_kg", "stable", "net", "zero", "under", "over", "error", "raw"}


def test_decode_dialog06_includes_the_scales_amount():
    frame = bytes.fromhex("02 30 32 1B 33 1B 30 31 30 30 30 1B 30 30 30 32 35 30 1B 30 30 30 32 35 30 03")
    (reading,) = json_lines(tillbridge("decode", "--protocol", "dialog06", stdin=frame).stdout)
    assert (reading["weight_kg"], reading["amount"]) == (Decimal("1.000"), Decimal("2.50"))


def test_unknown_protocol_exits_2_and_lists_the_valid_names():
    result = tillbridge("decode", "--protocol", "bizerba99")
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "bizerba99" in message
    for name in ("toledo8217", "toledo8213", "dialog06", "cas22", "mtsics", "enq"):
        assert name in message


def test_read_polls_a_scale_once():
    with VirtualScale("mtsics") as sim:
        sim.set_weight(Decimal("0.875"))
        result = tillbridge("read", "--protocol", "mtsics", "--port", sim.port_path, "--baud", "19200")
    assert result.returncode == 0, result.stderr
    (reading,) = json_lines(result.stdout)
    assert (reading["weight_kg"], reading["sellable"]) == (Decimal("0.875"), True)


def test_read_from_a_silent_scale_exits_2_with_a_message():
    with VirtualScale("toledo8217") as sim:
        sim.switch_off()
        result = tillbridge("read", "--protocol", "toledo8217", "--port", sim.port_path, "--timeout", "0.2")
    assert result.returncode == 2
    assert "not answering" in result.stderr.decode()


def test_protocols_lists_names_and_serial_defaults():
    out = tillbridge("protocols").stdout.decode()
    assert "toledo8217   9600 7E1" in out and "dialog06     9600 7O1" in out


def test_decode_of_bytes_with_no_reading_says_so_and_exits_1():
    """A wrong --protocol or a wrong baud rate gives noise: the installer must be told, not shown nothing."""
    result = tillbridge("decode", "--protocol", "toledo8217", stdin=b"garbage\x01\x02\xff")
    assert result.returncode == 1
    assert result.stdout == b""
    message = result.stderr.decode()
    assert "no reading" in message and "10 bytes" in message and "toledo8217" in message
