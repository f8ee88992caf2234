"""Sample data for every ticket kind: `tillbridge ticket preview`, the demo and the tests print these.

The names carry the characters that go wrong with the wrong code page (€, ñ, á, ç) and are long enough
to wrap on 58 mm paper.
"""

from __future__ import annotations

from collections.abc import Callable

from devices.barcodes import OrderCopy, OrderHandOver, OrderStep, encode_command, encode_pickup
from devices.readings import DeviceState, DeviceStatus
from firmware_agent.tickets.control import default_control_sheet
from firmware_agent.tickets.layouts import (
    control_sheet,
    handover_ticket,
    kitchen_ticket,
    order_ticket,
    price_list,
    selftest_ticket,
)
from firmware_agent.tickets.model import (
    Handover,
    KitchenLine,
    KitchenTicket,
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

KITCHEN_LINES = (
    KitchenLine(2, "Pizza margarita", 950, ("Masa: Fina", "+ Aceitunas"), "sin cebolla, por favor"),
    KitchenLine(1, "Caña de cerveza", 250),
)
COUNTER = KitchenTicket(  # a phone order as the counter prints it: every line, the total, the pickup QR
    order_id="1043",
    number="1043",
    language="es",
    source="phone",
    pickup=True,
    due="21:30",
    lines=KITCHEN_LINES,
    customer="Luis Peña",
    phone="600 111 222",
    allergies="frutos secos",
    placed_at="20:58",
    total_cents=2150,
    paid=False,
    due_cents=2150,
    qr=encode_command(OrderHandOver("1043")),  # hands it over; never the pickup code (docs/orders.md)
    scan_code=encode_command(OrderStep("1043")),
    copy_code=encode_command(OrderCopy("1043")),
    other_stations=("cocina",),
)
KITCHEN = KitchenTicket(  # the same order as the kitchen station prints it: its lines only, no prices
    order_id="1043",
    number="1043",
    language="es",
    source="phone",
    pickup=True,
    due="21:30",
    lines=KITCHEN_LINES[:1],
    station="cocina",
    customer="Luis Peña",
    allergies="frutos secos",
    placed_at="20:58",
    scan_code=encode_command(OrderStep("1043")),
)

SAMPLES: dict[str, Callable[[TicketStyle], bytes]] = {
    "order": lambda style: order_ticket(ORDER, style),
    "counter": lambda style: kitchen_ticket(COUNTER, style),
    "kitchen": lambda style: kitchen_ticket(KITCHEN, style),
    "handover": lambda style: handover_ticket(HANDOVER, style),
    "control": lambda style: control_sheet(default_control_sheet(), style),
    "selftest": lambda style: selftest_ticket(SELFTEST, style),
    "prices": lambda style: price_list(PRICES, style),
}
