"""Sample data for every ticket kind: `tillbridge ticket preview`, the demo and the tests print these.

The names carry the characters that go wrong with the wrong code page (€, ñ, á, ç) and are long enough
to wrap on 58 mm paper.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.barcodes import encode_pickup
from devices.readings import DeviceState, DeviceStatus
from firmware_agent.tickets.control import default_control_sheet
from firmware_agent.tickets.layouts import (
    control_sheet,
    handover_ticket,
    order_ticket,
    price_list,
    selftest_ticket,
)
from firmware_agent.tickets.model import (
    Handover,
    OnlineOrder,
    OrderLine,
    PriceChange,
    PriceChangeList,
    SelfTest,
    TicketStyle,
)

ORDER_LINES = (
    OrderLine(2, "Pan de centeno", 250),
    OrderLine(1, "Aceite de oliva virgen extra de la sierra de Cazorla 1 l", 995),
    OrderLine(3, "Croissant de mantequilla", 120),
)
ORDER = OnlineOrder(
    order_id="1042",
    customer_name="Begoña Núñez",
    lines=ORDER_LINES,
    total_cents=1855,
    pickup_payload=encode_pickup("1042", "K7Q2"),  # what the till scans back
    notes="Sin gluten en el pan, por favor. Recoge su hermano François.",
    placed_at="2024-05-03 17:02",
    pickup_at="2024-05-03 18:30",
)
HANDOVER = Handover(
    order_id="1042",
    customer_name="Begoña Núñez",
    lines=ORDER_LINES,
    total_cents=1855,
    paid_online=True,
    handed_over_at="2024-05-03 18:34",
)
SELFTEST = SelfTest(
    box_id="tb-0042",
    ip="192.168.1.23",
    version="0.1.0",
    devices=(
        DeviceStatus("scanner /dev/input/event3", DeviceState.OK),
        DeviceStatus("scale /dev/ttyUSB0", DeviceState.ABSENT, "no reply to the 8217 weight request"),
        DeviceStatus("printer tcp://192.168.1.50:9100", DeviceState.OK, "online, paper ok"),
    ),
    link="online",
    printed_at="2024-05-03 09:00",
)
PRICES = PriceChangeList(
    (
        PriceChange("Aceite de oliva virgen extra 1 l", 995, 1045, "8412345678905"),
        PriceChange("Queso manchego curado, cuña de 250 g", 650, 595, "4006381333931"),
        PriceChange("Té verde a granel (100 g)", 300, 320),
        PriceChange("Jamón serrano al corte", 2490, 2590, unit="kg"),
    ),
    effective="2024-05-04",
)

SAMPLES: dict[str, Callable[[TicketStyle], bytes]] = {
    "order": lambda style: order_ticket(ORDER, style),
    "handover": lambda style: handover_ticket(HANDOVER, style),
    "control": lambda style: control_sheet(default_control_sheet(), style),
    "selftest": lambda style: selftest_ticket(SELFTEST, style),
    "prices": lambda style: price_list(PRICES, style),
}
