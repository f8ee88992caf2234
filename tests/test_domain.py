"""The rules of a scan, as plain functions: no store, no threads."""

from firmware_agent import domain
from firmware_agent.domain import BoxState, Counted, Feedback, Mode, ModeChanged, StockMove
from firmware_agent.store import ProductRecord
from wire import EntryKind

OIL = ProductRecord("OIL-1L", "Aceite", 1095, "each", 10)
HAM = ProductRecord("HAM", "Jamón", 2490, "kg", 5000)


def test_a_sale_takes_one_unit_and_resets_the_prefix():
    outcome = domain.product_scanned(BoxState(quantity=6), OIL, "8410000000011")
    assert outcome.facts == (StockMove(EntryKind.SALE, "OIL-1L", -6, "8410000000011"),)
    assert outcome.state == BoxState() and outcome.feedback is Feedback.OK


def test_receive_mode_adds_stock():
    outcome = domain.product_scanned(BoxState(Mode.RECEIVE, quantity=12), OIL, "b")
    assert outcome.facts == (StockMove(EntryKind.RECEIVE, "OIL-1L", 12, "b"),)


def test_a_return_prefix_turns_the_next_sale_into_a_return():
    state = domain.mark_return(BoxState()).state
    outcome = domain.product_scanned(state, OIL, "b")
    assert outcome.facts == (StockMove(EntryKind.RETURN, "OIL-1L", 1, "b"),)
    assert not outcome.state.returning


def test_count_mode_counts_instead_of_moving_stock():
    outcome = domain.product_scanned(BoxState(Mode.COUNT, quantity=3), OIL, "b")
    assert outcome.facts == (Counted("OIL-1L", 3, "b"),)


def test_lookup_mode_changes_nothing_and_shows_price_and_stock():
    outcome = domain.product_scanned(BoxState(Mode.LOOKUP), OIL, "b")
    assert outcome.facts == ()
    assert "10,95 €" in outcome.message and "stock 10" in outcome.message


def test_a_weighed_product_sells_its_weight_in_grams():
    outcome = domain.product_scanned(BoxState(), HAM, "2000042003507", weight_g=350, price_cents=872)
    assert outcome.facts == (StockMove(EntryKind.SALE, "HAM", -350, "2000042003507", 350, 872),)


def test_a_weighed_product_without_a_weight_is_recorded_but_flagged():
    outcome = domain.product_scanned(BoxState(), HAM, "b")
    assert outcome.facts[0].delta == 0  # type: ignore[union-attr]
    assert outcome.feedback is Feedback.WARN and "no weight" in outcome.message


def test_a_price_embedded_label_sells_the_weight_its_price_buys():
    """21IIIII$$$$$C labels carry only the price: 8.72 of ham at 24.90/kg is 350 g."""
    outcome = domain.product_scanned(BoxState(), HAM, "2100042008727", price_cents=872)
    assert outcome.facts == (StockMove(EntryKind.SALE, "HAM", -350, "2100042008727", 350, 872),)
    assert outcome.feedback is Feedback.OK


def test_products_sold_by_the_litre_or_the_metre_sell_the_label_s_measure():
    oil = ProductRecord("OIL-BULK", "Aceite a granel", 890, "l", 20_000)
    cloth = ProductRecord("CLOTH", "Tela de algodón", 1250, "m", 30_000)
    poured = domain.product_scanned(BoxState(), oil, "l", weight_g=1500)
    assert poured.facts == (StockMove(EntryKind.SALE, "OIL-BULK", -1500, "l"),)
    cut = domain.product_scanned(BoxState(), cloth, "m")
    assert cut.feedback is Feedback.WARN and "sold by the metre but no length" in cut.message


def test_lookup_shows_the_price_per_kilogram_litre_or_metre():
    assert "24,90 €/kg, stock 5,000 kg" in domain.product_scanned(BoxState(Mode.LOOKUP), HAM, "b").message
    oil = ProductRecord("OIL-BULK", "Aceite a granel", 890, "l", 20_000)
    assert "8,90 €/l, stock 20,000 l" in domain.product_scanned(BoxState(Mode.LOOKUP), oil, "b").message


def test_selling_below_zero_is_allowed_but_warned():
    outcome = domain.product_scanned(BoxState(quantity=11), OIL, "b")
    assert outcome.facts[0].delta == -11  # type: ignore[union-attr]
    assert outcome.feedback is Feedback.WARN


def test_mode_changes_are_facts_and_drop_pending_prefixes():
    outcome = domain.change_mode(BoxState(quantity=4, returning=True), Mode.RECEIVE, "button")
    assert outcome.facts == (ModeChanged(Mode.RECEIVE, Mode.SALE, "button"),)
    assert outcome.state == BoxState(Mode.RECEIVE)
    assert domain.change_mode(BoxState(), Mode.SALE, "barcode").facts == ()


def test_unknown_barcodes_are_kept_with_the_reason():
    outcome = domain.unknown(BoxState(quantity=2), "123", "not in the catalog")
    assert outcome.facts == (domain.UnknownBarcode("123", Mode.SALE, "not in the catalog"),)
    assert outcome.state.quantity == 1
