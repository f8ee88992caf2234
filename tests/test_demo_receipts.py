"""The demo's receipt till: a POS without the box's scanner prints through box 1, whose sales then reach
the online shop; its reprint is not counted again."""

from tests.demo_helpers import demo_output


def test_a_pos_printing_through_the_box_sells_in_the_online_shop_and_a_reprint_counts_once(tmp_path):
    args = ["--interval", "0.2", "--scans", "24", "--seed", "3", "--data-dir", str(tmp_path)]
    out = demo_output(*args)
    lines = out.splitlines()
    first = lines.index("   🧾  receipt till: receipt 000001: 2 movement(s), 0 line(s) unmatched")
    second = lines.index("   🧾  receipt till: receipt 000002: 2 movement(s), 0 line(s) unmatched")
    reprint = lines.index("   🧾  receipt till: receipt 000001: a reprint, not counted again")
    assert first < second < reprint
    shop = [line for line in lines[first:] if "🛒  online shop: Café molido 250 g" in line]
    assert shop, "the coffee keyed at the POS reached the online shop"
    assert "📦  at the end: both boxes and the online shop agree on all 9 products" in out
