"""`tillbridge demo` as a newcomer runs it: the scripted morning at the till, shown live."""

import json
import os
import re
import subprocess

from simulators.broker import free_port
from simulators.catalog import DAY_AT_THE_TILL
from tests.demo_helpers import DEMO, demo_output


def test_the_demo_sells_receives_looks_up_and_prints(tmp_path):
    args = ["--interval", "0", "--scans", str(len(DAY_AT_THE_TILL)), "--data-dir", str(tmp_path)]
    out = demo_output(*args, timeout=60)
    rows = [line for line in out.splitlines() if " till " in line]
    assert len(rows) == len(DAY_AT_THE_TILL)
    assert (
        "sale Aceite de oliva virgen extra 1 L" in rows[0] and "24→23" in rows[0] and rows[0].endswith(" 1")
    )
    assert "5,000→4,650 kg" in rows[4]  # 350 g of ham from a scale label
    assert "3,000→2,750 kg" in rows[5]  # 250 g of cheese from the virtual scale
    assert "unknown: not in the catalog" in rows[6]
    misread = out[out.index("check digit is 7") :]
    assert "expected 6 (in" in misread and "8410000000017)" in misread  # a long message wraps, never cut
    assert "Café molido 250 g: 3,49 €, stock 20" in out  # a price with its currency
    assert "receive Huevos camperos (12)" in rows[10] and "12→24" in rows[10]
    assert "stock below zero" in rows[-1] and "0→-1" in rows[-1]
    assert "virtual printer: 'CONTROL SHEET'" in out
    assert "catalog from the online shop: 9 products" in out  # the box starts empty: the shop seeds it
    assert (tmp_path / "tillbridge.db").exists()


def test_remote_support_reaches_the_demo_box_with_mosquitto_rr(tmp_path):
    port = free_port()
    args = ["--interval", "0.2", "--scans", "8", "--data-dir", str(tmp_path), "--mqtt-port", str(port)]
    demo = subprocess.Popen([*DEMO, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if "device mqtt: ok" in line:
                break
        request = '{"v":1,"id":"1","cmd":"status"}'
        topic = "tillbridge/v1/demo/demo-box-1/cmd"
        rr = ["mosquitto_rr", "-V", "5", "-p", str(port), "-t", topic, "-e", "support/reply", "-m", request]
        reply = json.loads(
            subprocess.run([*rr, "-W", "10"], capture_output=True, text=True, check=True).stdout
        )
        assert reply["ok"] and reply["result"]["box"] == "demo-box-1" and reply["result"]["connected"]
        logs = '{"v":1,"id":"2","cmd":"logs","args":{"lines":50,"level":"info"}}'
        rr[-1] = logs
        lines = json.loads(
            subprocess.run([*rr, "-W", "10"], capture_output=True, text=True, check=True).stdout
        )["result"]
        assert any("MQTT link" in line for line in lines), lines  # support sees the box's log, not []
        rr[-1] = '{"v":1,"id":"3","cmd":"print.test"}'
        printed = json.loads(
            subprocess.run([*rr, "-W", "10"], capture_output=True, text=True, check=True).stdout
        )["result"]
        assert printed["printer_configured"] is True  # the demo's virtual printer is the box's printer
    finally:
        demo.wait(timeout=60)
    assert demo.returncode == 0


def test_a_sale_reaches_the_online_shop_and_an_online_order_is_printed_and_collected(tmp_path):
    args = [
        "--interval",
        "0.3",
        "--scans",
        "30",
        "--data-dir",
        str(tmp_path),
        "--mqtt-port",
        str(free_port()),
    ]
    out = subprocess.run([*DEMO, *args], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "online shop: Aceite de oliva virgen extra 1 L 24→23" in out  # the first sale, in the shop
    assert (
        "online shop: Jamón serrano al corte 5,000→4,650 kg" in out
    )  # still sold by weight after the shop's catalog
    assert "click & collect order" in out and "virtual printer: 'ONLINE ORDER'" in out
    collected = [line for line in out.splitlines() if " counter " in line]
    assert len(collected) == 1 and "collected" in collected[0]
    assert out.index("virtual printer: 'ONLINE ORDER'") < out.index(collected[0])
    assert "is completed" in out  # the hand-over at the till closed the order in the shop


BREAD_ON_THE_BOARD = re.compile(r"📦  Pan de pueblo: box 1 (-?\d+) · box 2 (-?\d+) · online shop (-?\d+)")


def test_both_tills_and_the_shop_agree_after_click_and_collect_and_a_sale_at_the_second_till(tmp_path):
    args = ["--interval", "0.3", "--scans", "24", "--seed", "3", "--data-dir", str(tmp_path)]
    out = demo_output(*args)
    lines = out.splitlines()
    collected = next(i for i, line in enumerate(lines) if " counter " in line and "collected" in line)
    second = next(i for i, line in enumerate(lines) if " till-2 " in line and "sale Pan de pueblo" in line)
    assert collected < second  # the second till sells a loaf once the online order was handed over
    board = [(i, BREAD_ON_THE_BOARD.search(line)) for i, line in enumerate(lines)]
    agreed = [i for i, match in board if match and len(set(match.groups())) == 1]
    assert any(i > second for i in agreed), "after the second till's sale, both boxes and the shop agree"
    assert "📦  at the end: both boxes and the online shop agree on all 9 products" in out
    end = out.index("📦  at the end")
    last_shown = {}  # each product's last board line above the closing line
    for line in out[:end].splitlines():
        if line.startswith("   📦  ") and ": box 1 " in line:
            last_shown[line.split(": box 1 ")[0]] = line
    disagreeing = [line for line in last_shown.values() if "✔ agree" not in line]
    assert not disagreeing, "the closing line says they agree; the rows above it must show it too"


def test_a_demo_without_data_dir_leaves_nothing_behind_and_stops_without_warnings(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # where its throw-away folder goes
    done = subprocess.run(
        [*DEMO, "--interval", "0", "--scans", "3", "--mqtt-port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    assert "throw-away folder is removed" in done.stdout
    assert list(tmp_path.iterdir()) == []
    assert "WARNING" not in done.stderr and "Traceback" not in done.stderr, done.stderr
