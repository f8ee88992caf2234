"""The journal drain as a state machine: entries and events in, payload bytes out; no broker, no clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_agent.link import UNSENDABLE, Drain, Fetch
from wire import JournalBatch, JournalEntry, Kind, decode

TS = "2024-05-01T09:00:00.000Z"
EPOCH, OTHER = "a1b2c3d4e5f60718", "0f1e2d3c4b5a6978"


def entries(first: int, last: int, **data) -> list[JournalEntry]:
    return [
        JournalEntry(seq, "sale", TS, {"sku": "MILK", "delta": -1, "stock_after": seq, **data})
        for seq in range(first, last + 1)
    ]


def sent(batch) -> list[JournalEntry]:
    message = decode(Kind.JOURNAL, batch.payload)
    assert isinstance(message, JournalBatch)
    return list(message.entries)


def seqs(batch) -> list[int]:
    return [e.seq for e in sent(batch)]


def connected_drain(**kw) -> Drain:
    drain = Drain(**{"max_entries": 3, "window": 2, "ack_timeout_s": 10.0, **kw})
    drain.connected(now=0.0)
    return drain


def test_nothing_is_wanted_while_disconnected_or_caught_up():
    drain = Drain(last_seq=5)
    assert drain.want() is None  # not connected
    drain.connected(0.0)
    assert drain.want() == Fetch(after=0, limit=4 * 200)
    drain = connected_drain()
    assert drain.want() is None  # nothing journaled


def test_the_payload_is_exactly_the_wire_contracts_journal_batch():
    drain = connected_drain(last_seq=2, epoch=EPOCH)
    [batch] = drain.send(entries(1, 2), now=0.0)
    assert batch.payload == (
        b'{"v":1,"epoch":"a1b2c3d4e5f60718","acked":0,"entries":['
        b'{"seq":1,"kind":"sale","ts":"2024-05-01T09:00:00.000Z","sku":"MILK","delta":-1,"stock_after":1},'
        b'{"seq":2,"kind":"sale","ts":"2024-05-01T09:00:00.000Z","sku":"MILK","delta":-1,"stock_after":2}]}'
    )


def test_batches_respect_the_entry_cap_and_the_window():
    drain = connected_drain(last_seq=10)
    assert drain.want() == Fetch(0, 6)
    batches = drain.send(entries(1, 10), now=1.0)
    assert [seqs(b) for b in batches] == [[1, 2, 3], [4, 5, 6]]
    assert [(b.first_seq, b.last_seq, b.count) for b in batches] == [(1, 3, 3), (4, 6, 3)]
    assert drain.want() is None  # the window is full until an ack


def test_an_ack_frees_the_window_and_says_what_the_store_may_forget():
    drain = connected_drain(last_seq=10)
    drain.send(entries(1, 10), 1.0)
    assert drain.on_ack(3, now=2.0) == 3
    assert drain.want() == Fetch(6, 3)
    assert [seqs(b) for b in drain.send(entries(7, 10), 2.0)] == [[7, 8, 9]]
    assert drain.backlog == 7


def test_a_stale_or_repeated_ack_forgets_nothing():
    drain = connected_drain(last_seq=6)
    drain.send(entries(1, 6), 1.0)
    assert drain.on_ack(4, 2.0) == 4
    assert drain.on_ack(4, 2.0) is None
    assert drain.on_ack(2, 2.0) is None
    assert drain.acked == 4


def test_an_ack_past_the_last_entry_is_clamped_so_later_entries_are_not_swallowed():
    drain = connected_drain(last_seq=3)
    drain.send(entries(1, 3), 1.0)
    assert drain.on_ack(1000, 2.0) == 3
    drain.journal_grew(5)
    assert drain.want() == Fetch(3, 6)


def test_a_partial_ack_keeps_the_rest_of_the_batch_in_flight():
    drain = connected_drain(last_seq=6)
    drain.send(entries(1, 6), 1.0)
    drain.on_ack(2, 2.0)
    assert drain.in_flight == 2 and drain.want() is None


def test_reconnecting_sends_everything_unacknowledged_again_in_order():
    drain = connected_drain(last_seq=9)
    drain.send(entries(1, 6), 1.0)
    drain.on_ack(3, 2.0)
    drain.disconnected()
    assert drain.want() is None
    drain.connected(3.0)
    assert drain.want() == Fetch(3, 6)
    assert [seqs(b) for b in drain.send(entries(4, 9), 3.0)] == [[4, 5, 6], [7, 8, 9]]


def test_an_ack_timeout_goes_back_and_backs_off_while_the_cloud_is_silent():
    drain = connected_drain(last_seq=3)
    drain.send(entries(1, 3), now=0.0)
    assert not drain.tick(9.9)
    assert drain.tick(10.0)
    assert drain.want() == Fetch(0, 6) and drain.resends == 1
    drain.send(entries(1, 3), now=10.0)
    assert not drain.tick(29.0)  # the timeout doubled to 20 s
    assert drain.tick(30.0)
    drain.send(entries(1, 3), now=30.0)
    drain.on_ack(3, now=31.0)
    assert drain.timeout_s == 10.0  # progress resets it


def test_progress_restarts_the_timeout_of_the_next_batch():
    drain = connected_drain(last_seq=6)
    drain.send(entries(1, 6), now=0.0)
    drain.on_ack(3, now=9.0)
    assert not drain.tick(15.0)  # batch 4-6 was sent at 0, but the cloud was making progress at 9
    assert drain.tick(19.0)


def test_the_byte_cap_cuts_batches_before_the_entry_cap():
    drain = connected_drain(last_seq=6, max_entries=100, max_bytes=400, window=10)
    batches = drain.send(entries(1, 6, note="x" * 60), 0.0)
    assert len(batches) > 1 and all(len(b.payload) <= 400 for b in batches)
    assert [s for b in batches for s in seqs(b)] == list(range(1, 7))


def test_an_entry_the_wire_refuses_travels_as_an_unsendable_stand_in_with_its_seq():
    bad = JournalEntry(2, "store_recovered", TS, {"moved_to": "/x", "lost_after_seq": None})
    huge = JournalEntry(3, "sale", TS, {"sku": "MILK", "delta": -1, "stock_after": 0, "note": "x" * 5000})
    drain = connected_drain(last_seq=4, max_entries=10, max_bytes=2048)
    [batch] = drain.send([*entries(1, 1), bad, huge, *entries(4, 4)], 0.0)
    entries_out = sent(batch)
    assert [e.seq for e in entries_out] == [1, 2, 3, 4]
    assert [e.kind for e in entries_out] == ["sale", UNSENDABLE, UNSENDABLE, "sale"]
    stand_in = dict(entries_out[1].data)
    assert stand_in["original_kind"] == "store_recovered" and "lost_after_seq" in str(stand_in["problem"])


def test_entries_already_sent_are_not_sent_twice_without_a_reason():
    drain = connected_drain(last_seq=3)
    drain.send(entries(1, 3), 0.0)
    drain.on_ack(3, 1.0)
    drain.journal_grew(4)
    [batch] = drain.send(entries(2, 4), 1.0)  # a read that overlaps what was sent
    assert seqs(batch) == [4]


def test_a_store_behind_the_drains_idea_of_the_last_seq_does_not_spin():
    drain = connected_drain(last_seq=5)
    drain.nothing_after(0)
    assert drain.want() is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["send", "ack", "drop", "tick", "grow"]), max_size=60), st.randoms())
def test_whatever_happens_every_entry_reaches_the_cloud_in_order(actions, rnd):
    """A cloud that applies in seq order and acks what it applied; the link may drop and time out at will."""
    total = 40
    drain = Drain(last_seq=10, max_entries=4, window=3, ack_timeout_s=5.0)
    drain.connected(0.0)
    store = {e.seq: e for e in entries(1, total)}
    applied, now, last = 0, 0.0, 10
    queue: list[list[int]] = []
    for action in [*actions, *["send", "ack"] * 40]:
        now += 1.0
        if action == "grow" and last < total:
            last = min(total, last + rnd.randint(1, 8))
            drain.journal_grew(last)
        elif action == "send" and (fetch := drain.want()):
            rows = [store[s] for s in range(fetch.after + 1, min(last, fetch.after + fetch.limit) + 1)]
            queue += [seqs(b) for b in drain.send(rows, now)]
        elif action == "ack" and queue:
            for seq in queue.pop(0):
                applied += seq == applied + 1
            if (forget := drain.on_ack(applied, now)) is not None:
                for seq in [s for s in store if s <= forget]:
                    del store[seq]
        elif action == "drop":
            queue.clear()
            drain.disconnected()
            drain.connected(now)
        elif action == "tick":
            drain.tick(now)
    assert drain.acked == applied == last
    assert all(seq > last for seq in store)
    assert drain.want() is None


def test_every_batch_names_the_store_s_epoch_and_the_last_ack():
    drain = connected_drain(last_seq=8, epoch=EPOCH, acked=1040)
    drain.journal_grew(1046)
    first, _ = drain.send(entries(1041, 1046), now=0.0)
    message = decode(Kind.JOURNAL, first.payload)
    assert isinstance(message, JournalBatch) and (message.epoch, message.acked) == (EPOCH, 1040)
    assert drain.on_ack(1043, 1.0, EPOCH) == 1043
    drain.journal_grew(1047)
    [third] = drain.send(entries(1047, 1047), now=1.0)
    message = decode(Kind.JOURNAL, third.payload)
    assert isinstance(message, JournalBatch) and message.acked == 1043  # what the box holds now


def test_an_ack_of_another_store_is_ignored_and_forgets_nothing():
    drain = connected_drain(last_seq=6, epoch=EPOCH)
    drain.send(entries(1, 6), 1.0)
    assert drain.on_ack(6, 2.0, OTHER) is None  # about the store this box had before: not these entries
    assert drain.acked == 0
    assert drain.on_ack(4, 2.0) == 4  # a cloud older than epochs sends none
    assert drain.on_ack(6, 2.0, EPOCH) == 6
