"""The demo starts the web pages and prints where they are: a newcomer opens the URL, logs in with what the
demo printed, and sees the demo shop's sales and boxes."""

from __future__ import annotations

import re
import subprocess

import requests

from simulators.broker import free_port
from tests.bridge_helpers import wait_for
from tests.demo_helpers import DEMO
from tests.test_owner_page import TOKEN

OWNER = re.compile(r"owner's page on (http://\S+) \(user (\S+), password (\S+)\)")
BOX = re.compile(r"the box's page on (http://\S+) \(PIN (\d+)\)")
BOARD = re.compile(r"order board .* on (http://\S+)#orders")


def test_the_demo_prints_both_pages_and_their_logins_work(tmp_path):
    args = [
        "--interval",
        "0.3",
        "--scans",
        "40",  # the demo lives long enough for its online order to reach the board
        "--data-dir",
        str(tmp_path),
        "--mqtt-port",
        str(free_port()),
    ]
    demo = subprocess.Popen([*DEMO, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert demo.stdout is not None
        found, box, board, first = None, None, None, None
        for line in demo.stdout:
            found = found or OWNER.search(line)
            if box is None and (box := BOX.search(line)):
                # a newcomer opens the page the moment it is printed: it must answer then, not a moment later
                first = requests.get(box.group(1) + "login", timeout=10)
            board = board or BOARD.search(line)
            if found and box and board:
                break
        assert found and box and board, "the demo never printed both pages and the order board"
        assert first is not None and first.status_code == 200
        assert board.group(1) == box.group(1)
        url, user, password = found.groups()
        http = requests.Session()
        token = TOKEN.search(http.get(url + "login", timeout=10).text)
        assert token
        data = {"csrf_token": token.group(1), "user": user, "password": password}
        home = http.post(url + "login", data=data, timeout=10)
        assert home.status_code == 200 and "demo-box-1" in home.text
        wait_for(lambda: "Aceite de oliva" in http.get(url, timeout=10).text, 60, "the catalog on the page")
        floor = requests.Session()
        token = TOKEN.search(floor.get(box.group(1) + "login", timeout=10).text)
        assert token
        page = floor.post(
            box.group(1) + "login", data={"csrf_token": token.group(1), "pin": box.group(2)}, timeout=10
        )
        assert page.status_code == 200 and "demo-box-1" in page.text
        assert 'id="pairing-code">demo/demo-box-1<' in page.text  # the demo's box has its cloud link
        wait_for(lambda: "yes: the bridge has" in floor.get(box.group(1), timeout=10).text, 60, "paired")
        shown = lambda: floor.get(box.group(1), timeout=10).text  # noqa: E731
        wait_for(lambda: "data-order=" in shown() and "Lucía Fernández" in shown(), 60, "the online order")
        demo.stdout.read()
        assert demo.wait(timeout=120) == 0
    finally:
        if demo.poll() is None:  # a failed check: stop it as Ctrl-C would, so it takes its broker down too
            demo.terminate()
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
