"""Committed scans reach the till PC as boot-keyboard reports; the box's own codes do not."""

from devices.barcodes import Mode, SetMode, encode_command
from devices.hid import HidForwarder, decode_reports
from firmware_agent.forwarding import forward_committed
from tests.core_helpers import running_core


def test_article_scans_are_typed_to_the_till_after_commit_and_commands_are_not(tmp_path):
    gadget = tmp_path / "hidg0"
    gadget.touch()  # a file stands in for the gadget's character device
    forwarder = HidForwarder(str(gadget), layout="es")
    with running_core(tmp_path, forward_committed(forwarder)) as box:
        box.scan("8410000000016", encode_command(SetMode(Mode.RECEIVE)), "8410000000108")
    while not forwarder._queue.empty():  # what the forwarder's own thread would type, typed here in order
        forwarder.send(forwarder._queue.get_nowait())
    forwarder.close()
    typed = decode_reports(gadget.read_bytes(), "es")
    assert typed == "8410000000016\n8410000000108\n"  # the unknown article too: the POS may know it
