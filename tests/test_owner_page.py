"""The owner's page over real HTTP (waitress) on each real database: a login sees its own shop only,
passwords are kept as hashes, every form needs its CSRF token, and the figures are the shop's own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from cloud_bridge import ledger
from cloud_bridge import models as m
from cloud_bridge.config import BridgeConfig, ShopConfig
from cloud_bridge.db import Database
from cloud_bridge.journal import apply_batch
from cloud_bridge.owner.app import make_app
from cloud_bridge.owner.logins import set_login
from cloud_bridge.parking import park
from firmware_agent.web.server import PageServer
from tests.bridge_helpers import batch, bridge_config, database, postgres, sale

__all__ = ["database", "postgres"]  # fixtures

PASSWORD = "correct horse battery"
SHOP_SECRET = "cs_do_not_show_me"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LABELS_7 = '{"backlog": 0, "counters": {"shelf_labels": 7}}'


@dataclass
class Page:
    server: PageServer
    config: BridgeConfig
    db: Database

    def session(self, user: str | None = None, password: str = PASSWORD) -> requests.Session:
        """A browser-like session, logged in as `user` when given."""
        http = requests.Session()
        if user is not None:
            answer = self.login(http, user, password)
            assert answer.status_code == 200, answer.text
        return http

    def login(self, http: requests.Session, user: str, password: str) -> requests.Response:
        form = http.get(self.server.url + "login", timeout=5)
        token = TOKEN.search(form.text)
        assert token, form.text
        data = {"csrf_token": token.group(1), "user": user, "password": password}
        return http.post(self.server.url + "login", data=data, timeout=5)


def shop(shop_id: str, boxes: tuple[str, ...]) -> ShopConfig:
    creds = {"consumer_key": "ck_key", "consumer_secret": SHOP_SECRET}
    return ShopConfig(shop_id, "woocommerce", "http://127.0.0.1:9", boxes, creds, 0, {})


@pytest.fixture
def page(database: Database) -> Iterator[Page]:
    config = bridge_config(
        database.url, "mqtt://127.0.0.1:1", [shop("corner", ("till-1",)), shop("other", ("far-1",))]
    )
    with database.write():
        set_login("ana", "corner", PASSWORD)
        set_login("bob", "other", "another long password")
        for shop_id, sku, name in (
            ("corner", "BREAD", "Sourdough loaf"),
            ("other", "SECRET-SKU", "Rival cake"),
        ):
            m.CatalogItem.insert(shop=shop_id, sku=sku, name=name, price_cents=350, version=1).execute()
            ledger.set_baseline(shop_id, sku, 4, time.time())
        park("other", "sku/SECRET-SKU", "sku", "a rival problem", time.time(), box="far-1")
        m.Box.insert(shop="other", box="far-1", online=True, version="9.9", telemetry=LABELS_7).execute()
    server = PageServer(make_app(config, database, secure_cookies=False), "127.0.0.1:0").start()
    try:
        yield Page(server, config, database)
    finally:
        server.stop()


def test_the_owner_logs_in_and_sees_their_shop_and_a_wrong_password_sees_nothing(page):
    http = page.session()
    assert http.get(page.server.url, timeout=5).url.endswith("/login")
    wrong = page.login(http, "ana", "not the password")
    assert wrong.status_code == 401
    assert "Wrong user or password" in wrong.text and "Sourdough" not in wrong.text
    home = page.login(http, "ana", PASSWORD)
    assert home.status_code == 200 and "Sourdough loaf" in home.text


def test_passwords_are_kept_only_as_argon2_hashes(page):
    with page.db.db.connection_context():
        stored = m.OwnerLogin.get(m.OwnerLogin.user == "ana").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_login_never_sees_another_shops_boxes_skus_or_problems(page):
    home = page.session("ana").get(page.server.url, timeout=5).text
    for theirs in ("SECRET-SKU", "Rival cake", "far-1", "a rival problem"):
        assert theirs not in home
    assert "till-1" in home  # its own box, though never seen yet


def test_the_owner_sees_how_many_shelf_labels_each_of_their_boxes_waits_to_change(page):
    home = page.session("ana").get(page.server.url, timeout=5).text
    assert "Every shelf label shows the current price" in home
    with page.db.write():
        said = '{"backlog": 0, "counters": {"shelf_labels": 3, "levels_stale": 0}}'
        m.Box.insert(shop="corner", box="till-1", telemetry=said, telemetry_at=time.time() - 120).execute()
    home = page.session("ana").get(page.server.url, timeout=5).text
    labels = home[home.index('<section id="labels">') :]
    labels = labels[: labels.index("</section>")]
    assert re.search(r"<b>3</b> price changes waiting for new shelf labels at box <b>till-1</b>", labels)
    assert "said 2 min ago" in labels and "7" not in labels  # another shop's box is never counted


def test_retrying_another_shops_parked_problem_is_refused_and_it_stays_parked(page):
    http = page.session("ana")
    token = TOKEN.search(http.get(page.server.url, timeout=5).text)
    assert token
    answer = http.post(
        page.server.url + "parked/retry",
        data={"csrf_token": token.group(1), "key": "sku/SECRET-SKU"},
        timeout=5,
    )
    assert answer.status_code == 404
    theirs = page.session("bob", "another long password").get(page.server.url, timeout=5)
    assert "a rival problem" in theirs.text


def test_no_shop_credential_or_pickup_code_reaches_the_page(page):
    with page.db.write():
        m.ShopOrder.insert(
            shop="corner",
            order_id="77",
            state="paid",
            status="processing",
            pickup_code="SECRETQR",
            message='{"placed_at": "2026-01-01T10:00:00.000Z", "customer": "Lucía", "total_cents": 700}',
            sent=True,
            updated_at=time.time(),
        ).execute()
    home = page.session("ana").get(page.server.url, timeout=5).text
    assert "#77" in home and "Lucía" in home  # waiting for pickup
    assert SHOP_SECRET not in home and "SECRETQR" not in home and "ck_key" not in home


def test_the_owner_sees_where_the_floor_has_each_order_waiting_for_pickup(page):
    with page.db.write():
        for order_id, customer in (("78", "Iker"), ("79", "Sara")):
            m.ShopOrder.insert(
                shop="corner",
                order_id=order_id,
                state="paid",
                status="processing",
                pickup_code="CODE",
                message=f'{{"placed_at": "2026-01-01T10:00:00.000Z", "customer": "{customer}"}}',
                sent=True,
                updated_at=time.time(),
            ).execute()
        for stage, eta in (("accepted", 20), ("ready", None)):  # the box's moves, in the order made
            source = f"entry/till-1/{stage}"
            m.OrderNotice.insert(
                shop="corner", order_id="78", stage=stage, eta_min=eta, text="", source=source,
                created_at=time.time(),
            ).execute()  # fmt: skip
        m.OrderNotice.insert(
            shop="corner", order_id="79", stage="accepted", eta_min=15, text="", source="entry/till-1/9",
            created_at=time.time(),
        ).execute()  # fmt: skip
    home = page.session("ana").get(page.server.url, timeout=5).text
    orders = home[home.index('<section id="orders">') :]
    iker, sara = orders[orders.index("Iker") :], orders[orders.index("Sara") :]
    assert re.match(r'[^<]*<br>.*?<b class="stage ready">ready</b></li>', iker)
    assert re.match(
        r'[^<]*<br>.*?<b class="stage accepted">accepted</b> \(ready in about 15 min\)</li>', sara
    )


def test_a_form_posted_without_its_csrf_token_is_refused(page):
    http = page.session("ana")
    with page.db.write():
        park("corner", "sku/BREAD", "sku", "the shop refused the write", time.time(), box="till-1")
    answer = http.post(page.server.url + "parked/retry", data={"key": "sku/BREAD"}, timeout=5)
    assert answer.status_code == 400 and "CSRF" in answer.text
    assert "the shop refused the write" in http.get(page.server.url, timeout=5).text
    login = requests.post(page.server.url + "login", data={"user": "ana", "password": PASSWORD}, timeout=5)
    assert login.status_code == 400 and "Sourdough" not in login.text


def test_the_retry_button_takes_a_parked_problem_off_the_list(page):
    http = page.session("ana")
    with page.db.write():
        park("corner", "sku/BREAD", "sku", "the shop refused the write", time.time(), box="till-1")
    home = http.get(page.server.url, timeout=5).text
    assert "the shop refused the write" in home
    token = TOKEN.search(home)
    assert token
    after = http.post(
        page.server.url + "parked/retry", data={"csrf_token": token.group(1), "key": "sku/BREAD"}, timeout=5
    )
    assert after.status_code == 200 and "Tried again: sku/BREAD" in after.text
    assert "the shop refused the write" not in after.text


def test_a_sale_at_a_till_shows_in_todays_till_takings_and_lowers_the_stock(page):
    b, payload = batch(sale(1, "BREAD", -2))
    apply_batch(page.db, "corner", "till-1", b, payload, time.time())
    home = page.session("ana").get(page.server.url, timeout=5).text
    till = re.search(r'<tr data-channel="till">.*?</tr>', home, re.S)
    assert till and "7.00" in till.group(0)  # 2 × 3.50, today and this week
    assert re.search(r"Sourdough loaf<small>BREAD</small></td><td>2</td>", home)
    assert "<rect" in home  # the week's chart has its bar


def test_a_weighed_product_shows_in_kg_and_is_low_by_its_kilos_not_its_grams(page):
    """The stock list showed a ham's 4,650 g as "4650", and listed nothing as low until 5 g were left."""
    with page.db.write():
        m.CatalogItem.insert(
            shop="corner", sku="HAM", name="Jamón serrano", price_cents=2490, version=1, unit="kg"
        ).execute()
        ledger.set_baseline("corner", "HAM", 4650, time.time())
    home = page.session("ana").get(page.server.url, timeout=5).text
    assert re.search(r"Jamón serrano<small>HAM</small></td><td>4.650 kg</td>", home)
    low = re.search(r'<ul class="low">.*?</ul>', home, re.S)
    assert low and "<span>Jamón serrano</span> <b>4.650 kg</b>" in low.group(0)
