"""`tillbridge order add`: take a phone order at the shop. The box journals it, the bridge creates it in the
online shop (one stock truth), and it comes back and prints like an online order (docs/orders.md).

It goes to the box as the remote command `order.add`, over MQTT like `tillbridge support`, so it works from
the shop's PC as well as on the box; the box checks it and names a wrong field at once.

    tillbridge order add --shop pizza till-1 --customer "Luis Peña" --phone 600111222 \\
        --line "PIZ-MARG x2 Extra=Aceitunas; sin cebolla" --line "CANA" --at 21:30
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tillbridge.commands import support

_LINE = re.compile(
    r"^\s*(?P<sku>[^\s;]+)(?:\s+x(?P<qty>\d+))?(?P<options>(?:\s+[^=;\s]+=[^;]+?)*)\s*(?:;\s*(?P<note>.*))?$"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("order", help="take a phone order (created in the online shop)")
    actions = parser.add_subparsers(dest="order_action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="a phone order: the box journals it, the bridge creates it in the shop, it prints as usual",
        description="Exit status 0 when the box took it, 1 when it refused (the reason names the field), "
        "2 when it does not answer.",
    )
    add.add_argument("box", help="the box that takes the order (the shop's orders box)")
    add.add_argument("--shop", required=True, help="the box's shop id")
    add.add_argument("--url", default=support.DEFAULT_URL, help="broker (default %(default)s)")
    add.add_argument("--username", help="broker username")
    add.add_argument("--password-file", help="file holding the broker password")
    add.add_argument("--key-file", help="file holding the box's command key: sign the command")
    add.add_argument("--ca-file", help="CA certificate for mqtts://")
    add.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the box")
    add.add_argument(
        "--line",
        action="append",
        required=True,
        metavar="'SKU [xQTY] [Name=Value ...] [; note]'",
        help="one product line, e.g. 'PIZ-MARG x2 Extra=Aceitunas; sin cebolla' (repeat for each line)",
    )
    add.add_argument("--customer", required=True, help="the customer's name")
    add.add_argument("--phone", default="", help="the customer's phone")
    add.add_argument("--delivery", metavar="ADDRESS", help="deliver to this address (default: pickup)")
    add.add_argument("--at", metavar="HH:MM", help="the slot, today (default: as soon as possible)")
    add.add_argument("--timezone", default="Europe/Madrid", help="the shop's zone for --at (%(default)s)")
    add.add_argument("--note", default="", help="the customer's note")
    add.add_argument("--allergies", default="", help="what the customer said about allergies")
    add.add_argument("--print", action="store_true", help="print the request as JSON; send nothing")
    add.set_defaults(func=_add)


def phone_order(args: argparse.Namespace) -> dict[str, Any]:
    """The `order.add` arguments (wire.PhoneOrder) from the command line; `UserError` names a bad value."""
    from tillbridge.cli import UserError

    order: dict[str, Any] = {
        "lines": [parse_line(text) for text in args.line],
        "customer": args.customer,
        "pickup": args.delivery is None,
    }
    for key in ("phone", "note", "allergies"):
        if getattr(args, key):
            order[key] = getattr(args, key)
    if args.delivery is not None:
        order["address"] = args.delivery
    if args.at:
        try:
            hour, minute = (int(part) for part in args.at.split(":"))
            zone = ZoneInfo(args.timezone)
            local = datetime.now(zone).replace(hour=hour, minute=minute, second=0, microsecond=0)
        except (ValueError, KeyError) as exc:
            raise UserError(f"--at {args.at!r}: expected HH:MM today ({exc})") from exc
        if local < datetime.now(zone) - timedelta(minutes=1):
            raise UserError(f"--at {args.at}: that time has passed today")
        order["due_at"] = local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return order


def parse_line(text: str) -> dict[str, Any]:
    """`PIZ-MARG x2 Extra=Aceitunas Masa=Fina; sin cebolla` → sku, qty, options, note."""
    from tillbridge.cli import UserError

    found = _LINE.match(text)
    if found is None:
        raise UserError(f"--line {text!r}: expected 'SKU [xQTY] [Name=Value ...] [; note]'")
    line: dict[str, Any] = {"sku": found["sku"], "qty": int(found["qty"] or 1)}
    options = [
        {"name": name, "value": value.strip()}
        for name, value in re.findall(r"([^=\s]+)=(.+?)(?=\s+[^=\s]+=|$)", found["options"].strip())
    ]
    if options:
        line["options"] = options
    if found["note"]:
        line["note"] = found["note"].strip()
    return line


def _add(args: argparse.Namespace) -> int:
    order = phone_order(args)
    if args.print:
        print(json.dumps(order, ensure_ascii=False, indent=2))
        return 0
    call = argparse.Namespace(
        **{
            **vars(args),
            "action": "call",
            "cmd": "order.add",
            "args": [json.dumps(order, ensure_ascii=False)],
            "password_file": _path(args.password_file),
            "key_file": _path(args.key_file),
            "ca_file": _path(args.ca_file),
        }
    )
    code = support._run(call)
    if code == 0:
        print(
            f"phone order sent to {args.box}: the bridge creates it in the shop, then it prints",
            file=sys.stderr,
        )
    return code


def _path(value: str | None) -> Any:
    from pathlib import Path

    return Path(value) if value else None
