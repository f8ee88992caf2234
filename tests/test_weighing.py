"""A weighed product sold at the till with the weight on a real (virtual, pty) scale."""

from decimal import Decimal

from devices.scales import ScaleReading
from firmware_agent.weighing import ScaleService
from simulators.scales import VirtualScale
from tests.core_helpers import running_core

CHEESE = "8410000000085"  # sold by weight, its own EAN: the weight comes from the scale


def wait_for_reading(box, predicate):
    while True:
        event = box.next().event
        if isinstance(event, ScaleReading) and predicate(event):
            return event


def test_a_stable_weight_sells_once_and_motion_sells_nothing(tmp_path):
    with VirtualScale("toledo8217") as scale:
        service = ScaleService("toledo8217", scale.port_path, None, poll_interval_s=0.02)
        with running_core(tmp_path, services=[service]) as box:
            scale.set_weight(Decimal("0.420"), stable=True)
            wait_for_reading(box, lambda r: r.sellable)
            [sold] = box.scan(CHEESE)
            [again] = box.scan(CHEESE)  # same weighing: must not sell 420 g twice
            scale.set_motion(True)
            wait_for_reading(box, lambda r: not r.stable)
            [moving] = box.scan(CHEESE)
    assert sold.records[0].data["delta"] == -420 and sold.records[0].data["weight_g"] == 420
    assert again.records[0].data["delta"] == 0 and "no weight" in again.outcome.message
    assert moving.records[0].data["delta"] == 0
