"""The link frames entries this release journaled as they are stored (checked once, when written), and still
sends rows of older releases, or rows the wire refuses, exactly as before: decoded and checked at send."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from firmware_agent.link import UNSENDABLE, Drain
from firmware_agent.store.outbox import Outbox
from tests.mqtt_helpers import CloudPeer, broker, new_box_id, running_box, seed_journal
from tests.store_helpers import open_store
from wire import SPELLING, JournalBatch, JournalEntry, Kind, SpelledEntry, decode

__all__ = ["broker"]

TS = "2024-05-01T09:00:00.000Z"
OLD_ROWS = [  # as an older release wrote them: no mark
    ("sale", TS, '{"sku":"MILK","delta":-1,"stock_after":4}'),
    ("sale", TS, '{"delta":-1}'),  # no sku: the wire refuses it
    ("future_kind", TS, '{"points":12,"note":"caf\u00e9 \u2615"}'),
]


def test_a_backlog_drains_without_the_link_spelling_each_stored_entry_again(tmp_path, broker, monkeypatch):
    box_id, backlog = new_box_id(), 600
    store = open_store(tmp_path)
    seed_journal(store, backlog)
    store.close()
    cloud_id = f"cloud-{box_id}"
    respelled: list[int] = []
    to_json = JournalEntry.to_json

    def counted(entry: JournalEntry) -> Any:
        on_the_box = threading.current_thread().name != f"paho-mqtt-client-{cloud_id}"  # the cloud spells too
        if on_the_box and entry.kind != "probe":  # the frame of every batch is measured on a probe entry
            respelled.append(entry.seq)
        return to_json(entry)

    monkeypatch.setattr(JournalEntry, "to_json", counted)
    cloud = CloudPeer(broker.port, box=box_id, client_id=cloud_id)
    try:
        with running_box(tmp_path, broker.url, box_id, batch_entries=100):
            cloud.wait_applied(backlog)
    finally:
        cloud.close()
    assert respelled == []
    assert cloud.seen.entries[backlog]["stock_after"] == backlog - 1


def _old_rows(tmp_path) -> Outbox:
    """A store of this release holding rows an older release wrote, then one entry of its own."""
    store = open_store(tmp_path)
    seed_journal(store, 1)
    store.close()
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:  # the previous release's INSERT
        conn.executemany("INSERT INTO journal (kind, ts, data) VALUES (?, ?, ?)", OLD_ROWS)
    store = open_store(tmp_path, catalog=False)
    seed_journal(store, 1)
    store.close()
    return Outbox(tmp_path / "tillbridge.db", "a1b2c3d4e5f60718", 0)


def test_rows_an_older_release_wrote_still_go_out_and_a_refused_one_as_its_stand_in(tmp_path):
    outbox = _old_rows(tmp_path)
    items = [row.entry() for row in outbox.rows_after(0, 10)]
    outbox.close()
    assert [type(item) for item in items] == [
        SpelledEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
        SpelledEntry,
    ]
    drain = Drain(last_seq=5, max_entries=10)
    drain.connected(0.0)
    [batch] = drain.send(items, 0.0)
    sent = decode(Kind.JOURNAL, batch.payload)
    assert isinstance(sent, JournalBatch)
    assert [entry.seq for entry in sent.entries] == [1, 2, 3, 4, 5]
    assert sent.entries[1].data == json.loads(OLD_ROWS[0][2])
    assert sent.entries[2].kind == UNSENDABLE and "sku" in str(sent.entries[2].data["problem"])
    assert sent.entries[3].data == {"points": 12, "note": "caf\u00e9 \u2615"}
    assert sent.entries[4].data == sent.entries[0].data


def test_the_previous_release_still_reads_and_writes_the_journal(tmp_path):
    _old_rows(tmp_path).close()
    with sqlite3.connect(tmp_path / "tillbridge.db") as conn:  # the previous release's queries
        read = conn.execute("SELECT seq, kind, ts, data FROM journal ORDER BY seq").fetchall()
        marks = [mark for (mark,) in conn.execute("SELECT spelled FROM journal ORDER BY seq")]
    assert [seq for seq, *_ in read] == [1, 2, 3, 4, 5]
    assert [json.loads(data) for *_, data in read][1:4] == [json.loads(data) for *_, data in OLD_ROWS]
    assert marks == [SPELLING, None, None, None, SPELLING]
