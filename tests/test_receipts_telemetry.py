"""The receipt counters reach the cloud in the box's telemetry, over a real mosquitto."""

from __future__ import annotations

from devices.receipts import Unreadable
from firmware_agent.receipts import ReceiptJournal, ReceiptRead
from tests.mqtt_helpers import CloudPeer, broker, new_box_id, running_box
from wire import Telemetry

__all__ = ["broker"]


def test_receipts_read_and_unreadable_are_counted_in_telemetry(tmp_path, broker):
    cloud = CloudPeer(broker.port, box=new_box_id())
    try:
        with running_box(tmp_path, broker.url, cloud.box, telemetry_s=0.2) as box:
            journal = ReceiptJournal()
            box.core.call(lambda store: journal.attach(box.core))  # on the loop, as a service's start would
            box.core.post(ReceiptRead(Unreadable("the lines add up to 7.09, the receipt's total is 8.09")))

            def counted(seen) -> bool:
                return any(
                    isinstance(m, Telemetry) and (m.counters or {}).get("receipts_unreadable") == 1
                    for _, m, _ in seen.messages
                )

            health = cloud.wait(counted)
            report = next(
                m
                for _, m, _ in health.messages
                if isinstance(m, Telemetry) and (m.counters or {}).get("receipts_unreadable") == 1
            )
            assert report.counters is not None and report.counters["receipts_read"] == 0
    finally:
        cloud.close()
