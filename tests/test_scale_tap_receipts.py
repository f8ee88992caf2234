"""The tapped scale as the receipts' second witness: each weighed receipt line is tied to the weighing the
POS made on its scale, through the real tap (pty pairs, a virtual scale, a POS simulator polling it); a
weight keyed in by hand and a weighing that no receipt shows are counted and logged for the owner."""

import logging
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from devices.readings import DeviceState, DeviceStatus
from devices.scales import codec_class
from firmware_agent.scaletap import TOLERANCE_G, ScaleTapService, TappedWeighing, match_weighings
from simulators.pos import Item, PtyEnd, Sale, ScalePos
from simulators.scales import VirtualScale
from tests.core_helpers import running_core
from tests.store_helpers import open_store
from tests.test_receipts_journal import CHEESE, OIL, Journaling, post, receipt


class Till:
    """A POS weighing on its MT-SICS scale through the box's tap, and the box reading its receipts."""

    def __init__(self, tmp_path, scale, cable):
        self.scale, self.pos = scale, ScalePos(cable, "mtsics")
        self.tap = ScaleTapService("mtsics", cable.path, str(scale.port_path), codec_class("mtsics").defaults)
        self.journal = Journaling()
        self.journal.journal.tap = True
        self.tmp_path = tmp_path

    def weigh(self, box, kg, polls=1):
        """Put goods on the scale; the POS polls `polls` times while they lie there; then they come off."""
        self.scale.set_weight(Decimal(kg), stable=True)
        for _ in range(polls):
            assert self.pos.weigh(timeout=5) is not None
            _until(box, lambda e: isinstance(e, TappedWeighing))
        self.scale.set_weight(Decimal(0), stable=True)
        assert self.pos.weigh(timeout=5) is not None
        _until(box, lambda e: isinstance(e, TappedWeighing))


def _until(box, wanted):
    while True:
        applied = box.next()
        if wanted(applied.event):
            return applied


def _tapped_till(tmp_path):
    scale = VirtualScale("mtsics").start()
    cable = PtyEnd()
    return scale, cable, Till(tmp_path, scale, cable)


def test_a_weighed_receipt_line_is_tied_to_the_weighing_the_pos_made_and_a_polling_pos_weighs_once(tmp_path):
    scale, cable, till = _tapped_till(tmp_path)
    try:
        with running_core(tmp_path, store=open_store(tmp_path), services=[till.tap, till.journal]) as box:
            _until(box, lambda e: isinstance(e, DeviceStatus) and e.state is DeviceState.OK)
            till.weigh(box, "0.412", polls=3)  # the till software polls while the cheese lies on the scale
            assert box.core.counters["scale_tap_weighings"] == 1  # one weighing, not three
            post(box, receipt(Sale("31", (CHEESE, OIL))))
            counters = box.core.counters
            assert counters["receipts_weighed_on_tap"] == 1
            assert counters["receipts_weighed_not_on_tap"] == 0
            assert counters["receipts_tap_weighings_not_on_receipt"] == 0
    finally:
        cable.close()
        scale.stop()


def test_a_weight_keyed_in_by_hand_and_a_weighing_never_sold_are_told_to_the_owner(tmp_path, caplog):
    scale, cable, till = _tapped_till(tmp_path)
    try:
        with running_core(tmp_path, store=open_store(tmp_path), services=[till.tap, till.journal]) as box:
            _until(box, lambda e: isinstance(e, DeviceStatus) and e.state is DeviceState.OK)
            till.weigh(box, "0.250")  # weighed, then the customer changed her mind: never on a receipt
            keyed = Item("2002", "Queso manchego", 1890, Decimal("0.300"), "kg")  # typed in at the POS
            with caplog.at_level(logging.WARNING, logger="firmware_agent.receipts"):
                post(box, receipt(Sale("32", (keyed,))))
            counters = box.core.counters
            assert counters["receipts_weighed_not_on_tap"] == 1
            assert counters["receipts_tap_weighings_not_on_receipt"] == 1
            assert "receipt 32: 0.300 kg weighed on no scale the box taps" in caplog.text
            assert "the POS weighed 0.250 kg that receipt 32 does not show" in caplog.text
            post(box, receipt(Sale("33", (CHEESE,))))  # a weighing waits for the next receipt only
            assert box.core.counters["receipts_weighed_not_on_tap"] == 2
            assert box.core.counters["receipts_tap_weighings_not_on_receipt"] == 1
    finally:
        cable.close()
        scale.stop()


grams = st.integers(min_value=1, max_value=30_000)


@given(st.lists(grams, max_size=12), st.lists(grams, max_size=12))
def test_every_line_and_every_weighing_is_accounted_for_once(lines, weighings):
    on_tap, not_on_tap, not_on_receipt = match_weighings(lines, weighings)
    assert sorted(on_tap + not_on_tap) == sorted(lines)
    assert len(on_tap) + len(not_on_receipt) == len(weighings)
    for line in not_on_tap:  # a line left alone had no weighing close enough left for it
        assert all(abs(w - line) > TOLERANCE_G for w in not_on_receipt)


@given(st.lists(grams, max_size=12))
def test_a_receipt_showing_exactly_what_was_weighed_is_witnessed_whole(weighings):
    assert match_weighings(list(reversed(weighings)), weighings) == (sorted(weighings), [], [])
