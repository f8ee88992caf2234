"""PrestaShop online orders told pickup or delivery by their carrier, matched to `pickup_carriers` by
`id_reference`: the back office saves an edited carrier as a copy with a new id, and an order placed
after that names the new id. Against the simulator's `edit_carrier`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud_bridge.connectors._values import Invalid
from cloud_bridge.connectors.prestashop_pickup import PickupCarriers
from cloud_bridge.retry import NO_RETRY
from simulators.shops import ManualClock, PrestaShopSimulator
from tests.shop_helpers import SMALL, presta

CARRIER_READS = "GET /api/carriers"


@pytest.fixture
def sim() -> Iterator[PrestaShopSimulator]:
    with PrestaShopSimulator(SMALL, clock=ManualClock()) as shop:
        shop.add_product("PIZ-4Q", "Pizza 4 quesos", 1150, 40)
        yield shop


def _pickups(sim: PrestaShopSimulator, **kw: Any) -> dict[int, bool]:
    orders, _ = presta(sim, ManualClock(), **kw).orders_since(None)
    return {int(o.order_id): o.pickup for o in orders}


def test_an_online_order_with_the_edited_pickup_carrier_s_new_id_reads_as_a_pickup(
    sim: PrestaShopSimulator,
) -> None:
    """Before, the new id was not in `pickup_carriers`: the order read as a delivery until the owner
    added the id by hand."""
    edited = sim.edit_carrier(1)
    after = sim.place_order("PIZ-4Q", 1, carrier=edited)
    before = sim.place_order("PIZ-4Q", 1, carrier=1)
    delivered = sim.place_order("PIZ-4Q", 1, carrier=2)
    assert _pickups(sim, pickup_carriers=[1]) == {after: True, before: True, delivered: False}
    # the setting written after the edit, with the new id: the older orders still read as pickups
    assert _pickups(sim, pickup_carriers=[edited]) == {after: True, before: True, delivered: False}


def test_carriers_are_read_once_per_connector_and_not_at_all_without_pickup_carriers(
    sim: PrestaShopSimulator,
) -> None:
    edited = sim.edit_carrier(1)
    sim.place_order("PIZ-4Q", 1, carrier=edited)
    connector = presta(sim, ManualClock(), pickup_carriers=[1])
    _, cursor = connector.orders_since(None)
    assert sim.calls[CARRIER_READS] == 1  # the order's carrier and the configured one, in one request
    later = sim.place_order("PIZ-4Q", 2, carrier=edited)
    orders, _ = connector.orders_since(cursor)
    assert [(int(o.order_id), o.pickup) for o in orders] == [(later, True)]
    assert sim.calls[CARRIER_READS] == 1
    _pickups(sim)
    assert sim.calls[CARRIER_READS] == 1


def test_orders_still_come_when_the_carriers_cannot_be_read_with_a_warning_where_unsure(
    sim: PrestaShopSimulator,
) -> None:
    edited = sim.edit_carrier(1)
    unsure = sim.place_order("PIZ-4Q", 1, carrier=edited)
    sure = sim.place_order("PIZ-4Q", 1, carrier=1)
    sim.fail_next(403, match="GET /api/carriers")  # a key without GET on carriers
    orders, _ = presta(sim, ManualClock(), pickup_carriers=[1], retry=NO_RETRY).orders_since(None)
    found = {int(o.order_id): (o.pickup, o.warnings) for o in orders}
    assert found[sure] == (True, ())
    assert found[unsure] == (False, (f"carrier {edited} could not be read: pickup or delivery not known",))


IDS = st.one_of(st.integers(-3, 30), st.text(max_size=4), st.none(), st.floats())


@given(
    st.lists(st.dictionaries(st.sampled_from(["id", "id_reference", "name"]), IDS), max_size=5),
    st.lists(st.text("0123456789", min_size=1, max_size=2), max_size=4),
)
def test_any_carriers_answer_is_learnt_or_invalid(rows: list[dict[str, Any]], asked: list[str]) -> None:
    """The shop's answer is outside input: it is learnt, or `Invalid` (an unreadable answer, the
    orders matched by id), never another exception."""
    carriers = PickupCarriers([1])
    try:
        carriers.learn(asked, rows)
    except Invalid:
        return
    for carrier in asked:
        assert carriers.known(carrier) or "1" not in asked
        assert isinstance(carriers.is_pickup(carrier), bool)
