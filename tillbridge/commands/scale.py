"""`tillbridge scale …`: decode captured bytes, poll a scale once, list protocols, run a virtual scale.

Installer tools: `decode` turns a capture (e.g. from `spy://` or `socat -x`) into readings, `read` checks
the cabling and settings in one go, `simulate` gives a pty to try a till or the box against.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.scales import ScaleReading


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("scale", help="retail scales: decode, read, simulate")
    sub = parser.add_subparsers(dest="scale_command", required=True, metavar="ACTION")

    decode = sub.add_parser("decode", help="decode raw scale bytes from stdin into JSON lines")
    decode.add_argument("--protocol", required=True, help="protocol name (see `tillbridge scale protocols`)")
    decode.set_defaults(func=_decode)

    read = sub.add_parser("read", help="poll a scale once and print the reading as JSON")
    read.add_argument("--protocol", required=True)
    read.add_argument(
        "--port", required=True, help="device or pyserial URL, e.g. /dev/ttyUSB0, spy:///dev/ttyUSB0"
    )
    _serial_options(read)
    read.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for an answer")
    read.set_defaults(func=_read)

    protocols = sub.add_parser("protocols", help="list protocol names and their serial defaults")
    protocols.set_defaults(func=_protocols)

    simulate = sub.add_parser("simulate", help="run a virtual scale on a pty until interrupted")
    simulate.add_argument("--protocol", required=True)
    simulate.add_argument("--weight", type=Decimal, default=Decimal("1.234"), help="kg on the platter")
    simulate.add_argument("--link", help="also make this path point at the pty")
    simulate.set_defaults(func=_simulate)


def _serial_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baud", type=int, help="override the protocol's default baud rate")
    parser.add_argument("--bytesize", type=int, choices=(5, 6, 7, 8))
    parser.add_argument("--parity", choices=("N", "E", "O", "M", "S"), type=str.upper)
    parser.add_argument("--stopbits", type=float, choices=(1, 1.5, 2))


def reading_json(reading: ScaleReading) -> str:
    """One JSON object; weights are written as exact JSON numbers (never through a float)."""
    fields: dict[str, Any] = {
        "weight_kg": reading.weight_kg,
        "unit": reading.unit,
        "value": reading.value,
        "stable": reading.stable,
        "net": reading.net,
        "zero": reading.zero,
        "under": reading.under,
        "over": reading.over,
        "error": reading.error,
        "sellable": reading.sellable,
        "raw": reading.raw.hex(" "),
    }
    if reading.amount is not None:
        fields["unit_price"], fields["amount"] = reading.unit_price, reading.amount
    return "{" + ", ".join(f"{json.dumps(k)}: {_json_value(v)}" for k, v in fields.items()) + "}"


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "null"
    return json.dumps(value)


def _decode(args: argparse.Namespace) -> int:
    from devices.scales import ScaleReading, make_codec

    codec = make_codec(args.protocol)
    data = sys.stdin.buffer.read()
    readings = [event for event in codec.feed(data) if isinstance(event, ScaleReading)]
    for reading in readings:
        print(reading_json(reading))
    if not readings:
        print(
            f"tillbridge scale decode: no reading in {len(data)} bytes as {args.protocol} "
            f"({codec.skipped} skipped as noise, {codec.buffered} left as an unfinished frame); "
            "check --protocol and the port's baud rate and parity",
            file=sys.stderr,
        )
        return 1
    return 0


def _read(args: argparse.Namespace) -> int:
    from devices.scales import codec_class, read_once

    settings = codec_class(args.protocol).defaults.override(
        args.baud, args.bytesize, args.parity, args.stopbits
    )
    reading = read_once(args.protocol, args.port, settings, timeout=args.timeout)
    print(reading_json(reading))
    return 0 if reading.error is None else 1


def _protocols(args: argparse.Namespace) -> int:
    from devices.scales import PROTOCOLS

    for name, codec in sorted(PROTOCOLS.items()):
        mode = "continuous" if codec.continuous else "polled"
        print(f"{name:<12} {codec.defaults!s:<10} {mode:<10} {codec.title}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import threading

    from simulators.scales import VirtualScale

    with VirtualScale(args.protocol, link=args.link) as sim:
        sim.set_weight(args.weight)
        print(
            f"virtual {args.protocol} scale on {sim.port_path} ({args.weight} kg); Ctrl-C stops", flush=True
        )
        threading.Event().wait()
    return 0
