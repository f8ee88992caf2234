"""Order numbers on the floor (store/order_numbers.py): whatever id and number a shop sends, the box gives
each order a short number a barcode carries and a scan finds back, unique on the box, on a real store."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.barcodes import OrderStep, encode_command, encode_pickup
from devices.barcodes.commands import decode_command
from devices.barcodes.pickup import decode_pickup
from firmware_agent.store.order_numbers import MAX_LEN, assign, order_id_of, preferred
from firmware_agent.store.orders import store_order
from tests.store_helpers import open_store
from wire import Order, OrderLine

TS = "2024-05-01T12:34:56.789Z"
shop_text = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"#?[A-Za-z0-9-]{1,20}", fullmatch=True),
    st.builds(lambda n: f"gid://shopify/Order/{n}", st.integers(1, 10**14)),
)


def keep(store, order_id: str, number: str = "") -> str:
    order = Order(order_id, TS, "pickup", (OrderLine("M", "M", 1, 9),), 9, number=number)
    with store.transaction():
        store_order(store, order.to_json(), b"ticket", 3600)
    row = store.sql("SELECT number FROM inbound_order WHERE order_id = ?", (order_id,)).fetchone()
    return str(row[0])


def test_a_shopify_gid_is_known_by_its_name_and_an_id_without_a_usable_number_gets_one_counted(tmp_path):
    store = open_store(tmp_path)
    try:
        assert keep(store, "gid://shopify/Order/5432109876543", "#1001") == "1001"
        assert keep(store, "gid://shopify/Order/5432109876544") == "B1"  # no name: the box counts one
        assert keep(store, "wc-77") == "wc-77"  # short enough: its own id, as the shop writes it
        assert keep(store, "1001") == "1001-2"  # another shop's 1001 on the same box
        assert order_id_of(store, "1001") == "gid://shopify/Order/5432109876543"  # a scan: the number first
        assert order_id_of(store, "WC-77") == "wc-77"
        assert order_id_of(store, "b1") == "gid://shopify/Order/5432109876544"
        assert order_id_of(store, "1001-2") == "1001"
        assert keep(store, "gid://shopify/Order/5432109876543", "#1001") == "1001"  # never changes
    finally:
        store.close()


@settings(max_examples=200, deadline=None)
@given(order_id=shop_text, number=shop_text)
def test_what_a_shop_sends_gives_a_number_the_barcodes_carry_or_none(order_id, number):
    short = preferred(order_id, number)
    if short is None:
        return
    assert 1 <= len(short) <= MAX_LEN
    assert decode_command(encode_command(OrderStep(short.upper()))) == OrderStep(short.upper())
    assert decode_pickup(encode_pickup(short.upper(), "K7Q2X9FA")).order_id == short.upper()


@settings(max_examples=30, deadline=None)
@given(orders=st.lists(st.tuples(shop_text, shop_text), max_size=12, unique_by=lambda o: o[0]))
def test_every_order_on_a_box_has_its_own_number_and_a_scan_of_it_finds_that_order(tmp_path_factory, orders):
    store = open_store(tmp_path_factory.mktemp("numbers"))
    try:
        numbers = {}
        for order_id, number in orders:
            if not order_id.strip() or any(not c.isprintable() for c in order_id) or len(order_id) > 40:
                continue  # not an id the wire carries
            with store.transaction():
                numbers[order_id] = assign(store, order_id, number)
                store.sql(
                    "INSERT INTO inbound_order (order_id, payload, received_at, number) "
                    "VALUES (?, '{}', 0, ?)",
                    (order_id, numbers[order_id]),
                )
        assert len({n.upper() for n in numbers.values()}) == len(numbers)
        for order_id, number in numbers.items():
            assert order_id_of(store, number.upper()) == order_id
    finally:
        store.close()


def test_an_order_kept_before_numbers_takes_its_number_with_its_next_revision(tmp_path):
    """Its new station's ticket carries the number: a scan of it must find the order."""
    store = open_store(tmp_path)
    gid = "gid://shopify/Order/77"
    order = Order(gid, TS, "pickup", (OrderLine("M", "M", 1, 9),), 9, number="#1001")
    try:
        with store.transaction():
            store_order(store, order.to_json(), b"ticket", 3600)
            store.sql("UPDATE inbound_order SET number = NULL")  # as a store of the previous release has it
            assert order_id_of(store, "1001") is None
            number = assign(store, gid, "#1001")
            store_order(store, {**order.to_json(), "rev": 2}, {"kitchen": b"pizzas"}, 3600, number=number)
        assert (number, order_id_of(store, "1001")) == ("1001", gid)
    finally:
        store.close()
