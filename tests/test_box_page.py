"""The box's local page, served by a real `tillbridge agent` process: a PIN that is rate-limited, CSRF on
every form, a sale at the (simulated) till reaching an open page through its event stream, the self-test
printed on a real (virtual) ESC/POS printer, and the config check saying what `agent --check-config` says.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_agent.config import InvalidConfig, check_config, validate
from firmware_agent.config.schema import lan_address
from firmware_agent.store import Store
from firmware_agent.web.pin import FIRST_LOCK_S, FREE_TRIES, PinGuard
from simulators.broker import free_port
from simulators.printer import VirtualPrinter
from tests.agent_helpers import AgentProcess, seed_catalog, write_config
from tests.bridge_helpers import wait_for

PIN = "246810"
BROKER_PASSWORD = "broker-pw-never-shown"
COMMAND_KEY = "c0mmand-key-never-shown-0123456789abcdef"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SEQS = re.compile(r'data-seq="(\d+)"')


@dataclass
class Box:
    url: str
    agent: AgentProcess
    printer: VirtualPrinter
    config: Path

    def session(self) -> requests.Session:
        http = requests.Session()
        answer = self.enter(http, PIN)
        assert answer.status_code == 200, answer.text
        return http

    def enter(self, http: requests.Session, pin: str) -> requests.Response:
        token = TOKEN.search(http.get(self.url + "login", timeout=5).text)
        assert token
        return http.post(self.url + "login", data={"csrf_token": token.group(1), "pin": pin}, timeout=5)

    def token(self, http: requests.Session) -> str:
        found = TOKEN.search(http.get(self.url, timeout=5).text)
        assert found
        return found.group(1)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    folder = tmp_path_factory.mktemp("box")
    seed_catalog(folder / "data")
    port = free_port()
    with VirtualPrinter() as printer:
        config = write_config(
            folder,
            f'[[scanner]]\nname = "till"\ntype = "sim"\ninterval_s = 1.5\n'
            f"barcodes = {['8410000000030'] * 200!r}\n".replace("'", '"')
            + f'[printer]\nurl = "{printer.url}"\n'
            + f'[web]\nlisten = "127.0.0.1:{port}"\npin = "{PIN}"\n'
            + f'[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\npassword = "{BROKER_PASSWORD}"\n'
            + f'command_key = "{COMMAND_KEY}"\n',
        )
        agent = AgentProcess(config)
        try:
            agent.wait_ready()
            yield Box(f"http://127.0.0.1:{port}/", agent, printer, config)
        finally:
            agent.terminate()


def test_a_sale_at_the_till_reaches_an_open_page_without_a_reload(box):
    http = box.session()
    pushed = False
    deadline = time.monotonic() + 30
    with http.get(box.url + "events", stream=True, timeout=10) as events:
        first: set[int] = set()
        for line in events.iter_lines(decode_unicode=True):
            assert time.monotonic() < deadline, "no later sale was pushed to the open page"
            seqs = {int(s) for s in SEQS.findall(line)}
            if not line.startswith("data:") or (not seqs and not first):
                continue
            if not first:
                first = seqs or {0}
                continue
            if seqs and max(seqs) > max(first):
                pushed = True  # a later sale, pushed to the open page
                break
    assert pushed
    page = http.get(box.url, timeout=5).text
    assert "sale" in page and "BREAD -1" in page


def test_the_self_test_button_prints_on_the_boxs_printer(box):
    http = box.session()
    before = len(box.printer.tickets)
    answer = http.post(box.url + "print-test", data={"csrf_token": box.token(http)}, timeout=5)
    assert answer.status_code == 200 and "Self-test queued" in answer.text
    ticket = box.printer.wait_for_tickets(before + 1, timeout=15)[-1]
    assert "test-box" in ticket.text


def test_the_config_check_says_what_agent_check_config_says(box):
    http = box.session()
    answer = http.post(box.url + "check", data={"csrf_token": box.token(http)}, timeout=5)
    assert check_config(box.config) == []
    assert answer.status_code == 200 and "The config is valid" in answer.text


def test_a_form_posted_without_its_csrf_token_is_refused(box):
    http = box.session()
    before = len(box.printer.tickets)
    answer = http.post(box.url + "print-test", timeout=5)
    assert answer.status_code == 400 and "CSRF" in answer.text
    assert len(box.printer.tickets) == before


def test_the_page_shows_no_secret(box):
    page = box.session().get(box.url, timeout=5).text
    assert PIN not in page and BROKER_PASSWORD not in page and COMMAND_KEY not in page


def test_the_installer_sees_the_pairing_code_and_what_the_box_connects_with_but_no_secret(box):
    page = box.session().get(box.url, timeout=5).text
    assert 'id="pairing-code">test/test-box<' in page
    pairing = page[page.index('id="pairing"') :]
    assert "mqtt://127.0.0.1:" in pairing and "test-box" in pairing
    assert re.search(r"<dt>Password</dt><dd[^>]*>set<", pairing)
    assert re.search(r"<dt>Command key</dt><dd>set<", pairing)
    assert "not yet: the broker has not let this box in" in pairing  # no broker listens there
    assert BROKER_PASSWORD not in page and COMMAND_KEY not in page


def test_each_scanner_shows_its_last_reading_and_what_the_box_made_of_it(box):
    http = box.session()
    wait_for(lambda: 'data-device="till"' in http.get(box.url, timeout=5).text, 15, "the scanner's reading")
    page = http.get(box.url, timeout=5).text
    reading = page[page.index('data-device="till"') :]
    reading = reading[: reading.index("</li>")]
    assert "8410000000030" in reading and "sale Pan de pueblo" in reading  # the sample catalog's BREAD


def test_the_catalog_search_finds_products_by_part_of_the_name_the_sku_or_a_barcode(box):
    http = box.session()

    def found(text: str) -> list[str]:
        page = http.get(box.url, params={"q": text}, timeout=5).text
        return re.findall(r'data-sku="([^"]+)"', page)

    assert "BREAD" in found("pan de")  # "Pan de pueblo", case ignored
    assert found("8410000000030") == ["BREAD"]
    assert found("BREAD") == ["BREAD"]
    assert found("%") == ["CHOCO"]  # "Chocolate negro 70 %": a LIKE wildcard is a character like any other
    assert found("_") == [] and found("zzz") == []
    assert "Nothing called or coded" in http.get(box.url, params={"q": "zzz"}, timeout=5).text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30))
def test_any_search_text_finds_only_products_that_match_it(catalog_store, text):
    """Control characters are ignored (a NUL once ended SQLite's LIKE pattern and matched everything)."""
    wanted = "".join(c for c in text if c.isprintable()).strip()
    for product, code in catalog_store.search_products(text):
        barcodes = {c for (c,) in catalog_store.sql("SELECT code FROM barcode WHERE sku = ?", (product.sku,))}
        assert wanted.lower() in product.name.lower() or product.sku == wanted or wanted in barcodes
        assert code == "" or code in barcodes


@pytest.fixture(scope="module")
def catalog_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("catalog")
    seed_catalog(folder)
    store = Store.open(folder / "tillbridge.db")
    yield store
    store.close()


def test_pin_tries_lock_out_longer_each_time_and_the_right_pin_opens_after_the_wait():
    guard = PinGuard(PIN)
    for _ in range(FREE_TRIES):
        assert not guard.attempt("10.0.0.9", "111111", 0.0)
    assert guard.wait_s("10.0.0.9", 0.0) == FIRST_LOCK_S
    assert not guard.attempt("10.0.0.9", PIN, 30.0)  # locked: even the right PIN
    assert guard.attempt("10.0.0.7", PIN, 30.0)  # another installer's phone is not locked out
    assert not guard.attempt("10.0.0.9", "222222", FIRST_LOCK_S)
    assert guard.wait_s("10.0.0.9", FIRST_LOCK_S) == 2 * FIRST_LOCK_S
    assert guard.attempt("10.0.0.9", PIN, 3 * FIRST_LOCK_S)


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "8.8.8.8:8080", "[::]:8080", "192.168.1.20"])
def test_the_page_refuses_to_listen_beyond_the_lan(listen):
    raw = {"box": {"id": "b", "shop": "s"}, "web": {"listen": listen, "pin": PIN}}
    with pytest.raises(InvalidConfig, match=r"web\.listen"):
        validate(raw, "agent.toml")
    ok = validate({**raw, "web": {"listen": "192.168.1.20:8080", "pin": PIN}}, "agent.toml")
    assert ok.web is not None and ok.web.listen == "192.168.1.20:8080"


def test_a_pin_that_is_not_6_to_12_digits_is_refused_without_showing_it():
    raw = {"box": {"id": "b", "shop": "s"}, "web": {"listen": "192.168.1.20:8080", "pin": "12ab"}}
    with pytest.raises(InvalidConfig, match=r"web\.pin") as caught:
        validate(raw, "agent.toml")
    assert "12ab" not in str(caught.value)


def test_a_pin_written_as_a_number_is_refused_without_showing_it():
    raw = {"box": {"id": "b", "shop": "s"}, "web": {"listen": "192.168.1.20:8080", "pin": 24681357}}
    with pytest.raises(InvalidConfig, match=r"web\.pin") as caught:
        validate(raw, "agent.toml")
    assert "24681357" not in str(caught.value)


def test_open_pages_beyond_the_limit_get_no_live_stream_and_a_closed_one_frees_its_place(box):
    from firmware_agent.web.page import MAX_STREAMS

    http = box.session()
    opened: list[requests.Response] = []
    try:  # an earlier test's stream may hold its place until the server next writes to it
        for _ in range(MAX_STREAMS + 1):
            answer = http.get(box.url + "events", stream=True, timeout=10)
            if answer.status_code != 200:
                break
            opened.append(answer)
        assert 1 <= len(opened) <= MAX_STREAMS
        assert answer.status_code == 503 and "too many open pages" in answer.text
        assert http.get(box.url, timeout=5).status_code == 200  # the page itself still answers
    finally:
        for answer in opened:
            answer.close()
    wait_for(lambda: _stream_opens(http, box.url), 15, "a place for a live stream again")


def _stream_opens(http: requests.Session, url: str) -> bool:
    with http.get(url + "events", stream=True, timeout=10) as answer:
        return answer.status_code == 200


def test_the_page_is_closed_without_the_pin_and_wrong_pins_lock_the_door(box):
    """Last in this module: it locks 127.0.0.1 out."""
    http = requests.Session()
    assert http.get(box.url, timeout=5).url.endswith("/login")
    assert http.get(box.url + "events", timeout=5).status_code == 401
    answers = [box.enter(http, "000000").status_code for _ in range(FREE_TRIES)]
    assert answers[:-1] == [401] * (FREE_TRIES - 1) and answers[-1] == 429
    locked = box.enter(http, PIN)
    assert locked.status_code == 429 and "try again in" in locked.text


def _with_ports(host: str) -> st.SearchStrategy[str]:
    shown = f"[{host}]" if ":" in host else host
    return st.integers(-5, 70000).map(lambda port: f"{shown}:{port}")


@given(st.one_of(st.text(max_size=60), st.ip_addresses().map(str).flatmap(_with_ports)))
def test_any_listen_value_is_accepted_only_as_a_lan_address_and_port(value):
    problem = lan_address(value)
    if problem is None:
        host, _, port = value.rpartition(":")
        ip = ipaddress.ip_address(host.strip("[]"))
        assert ip.is_private or ip.is_loopback or ip.is_link_local
        assert not ip.is_unspecified and 0 < int(port) < 65536
