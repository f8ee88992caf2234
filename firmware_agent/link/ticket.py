"""Plain ESC/POS tickets for online orders and support's test print, until the ticket layouts take over.

Plain text in the printer's code page, framed by ESC @ (reset) and GS V (cut): readable on any ESC/POS
printer and easy to decode back in tests.
"""

from __future__ import annotations

from wire import Order

INIT = b"\x1b@"
CUT = b"\n\n\n\x1dV\x01"
WIDTH = 42  # characters per line on 80 mm paper with font A


def order_ticket(order: Order, codepage: str = "cp858") -> bytes:
    lines = [
        f"ONLINE ORDER {order.order_id}",
        f"{order.kind.upper()}  {order.placed_at[:16].replace('T', ' ')} UTC",
    ]
    if order.customer:
        lines.append(order.customer)
    lines.append("-" * WIDTH)
    for line in order.lines:
        amount = _money(line.qty * line.price_cents)
        lines.append(_columns(f"{line.qty} x {line.name}", amount))
    lines += ["-" * WIDTH, _columns("TOTAL", _money(order.total_cents))]
    if order.pickup_code:
        lines.append(f"Pickup code: {order.pickup_code}")
    if order.notes:
        lines += ["", order.notes]
    return _frame(lines, codepage)


def test_ticket(box: str, shop: str, version: str, ts: str, codepage: str = "cp858") -> bytes:
    lines = ["TILLBRIDGE TEST PRINT", f"box {box}  shop {shop}", f"version {version}", ts]
    return _frame(lines, codepage)


def _frame(lines: list[str], codepage: str) -> bytes:
    return INIT + "\n".join(lines).encode(codepage, errors="replace") + CUT


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _columns(left: str, right: str) -> str:
    room = WIDTH - len(right) - 1
    return f"{left[:room]:<{room}} {right}"
