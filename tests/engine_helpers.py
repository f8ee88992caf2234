"""Real shop engines as server processes: a django-oscar shop on a fresh copy of a migrated SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from simulators.broker import free_port

ROOT = Path(__file__).resolve().parent.parent
OSCAR_VENV = ROOT / ".venv-oscar"
OSCAR_SHOP = ROOT / "simulators" / "engines" / "oscar_shop"
START_S = 60.0
# The shop owner (a superuser, who seeds the shop) and the bridge's account with the least rights that
# docs/shops.md tells owners to give it: staff, viewing products and orders, changing stock records,
# nothing else.
ACCOUNTS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
User = get_user_model()
User.objects.create_superuser("owner", "owner@example.invalid", "owner-pw")
bridge = User.objects.create_user("bridge", "bridge@example.invalid", "bridge-pw", is_staff=True)
bridge.user_permissions.set(
    Permission.objects.filter(content_type__app_label="catalogue", codename="view_product")
    | Permission.objects.filter(content_type__app_label="partner", codename="change_stockrecord")
    | Permission.objects.filter(content_type__app_label="order", codename__in=["view_order", "view_line"])
)
"""


@dataclass
class OscarShop:
    """A running Oscar shop: its URL, the owner's account (admin calls to seed it) and the bridge's."""

    url: str
    username: str
    password: str
    bridge_user: str
    bridge_password: str

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A call to the engine's own admin API, as a shop owner's script would make it."""
        reply = requests.request(
            method, f"{self.url}/api/admin{path}", json=body, auth=(self.username, self.password), timeout=30
        )
        assert reply.ok, f"{method} {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json() if reply.content else None

    def seed(self, products: list[tuple[str, str, str, str, int]]) -> dict[str, int]:
        """A product class (nothing to ship: the shop's online orders are collected in store), a partner and
        (sku, title, upc, price, stock) products; stock record ids by sku.
        """
        goods = {"name": "Goods", "slug": "goods", "track_stock": True, "requires_shipping": False}
        self.admin("POST", "/productclasses/", goods)  # sold for collection in the store
        partner = self.admin("POST", "/partners/", {"name": "Store"})["url"]
        ids: dict[str, int] = {}
        for sku, title, upc, price, stock in products:
            record = {"partner": partner, "partner_sku": sku, "price": price, "num_in_stock": stock}
            made = self.admin(
                "POST",
                "/products/",
                {
                    "title": title,
                    "slug": sku.lower(),
                    "upc": upc,
                    "structure": "standalone",
                    "product_class": "goods",
                    "stockrecords": [{**record, "price_currency": "EUR"}],
                },
            )
            ids[sku] = int(made["stockrecords"][0]["url"].rstrip("/").rpartition("/")[2])
        return ids

    def record(self, record_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.admin("GET", f"/stockrecords/{record_id}/")
        return found

    def place_order(
        self, record_id: int, quantity: int, email: str = "ana@example.invalid"
    ) -> dict[str, Any]:
        """A guest's order through the engine's own store API (basket, add product, checkout), as the
        shop's web front end places it; the order as the checkout answers it.
        """
        buyer = requests.Session()
        product = f"{self.url}/api/products/{self.record(record_id)['product']}/"
        try:
            basket = self._store(buyer, "GET", "/basket/")
            self._store(buyer, "POST", "/basket/add-product/", {"url": product, "quantity": quantity})
            placed: dict[str, Any] = self._store(
                buyer, "POST", "/checkout/", {"basket": basket["url"], "guest_email": email}
            )
        finally:
            buyer.close()
        return placed

    def order(self, pk: str) -> dict[str, Any]:
        found: dict[str, Any] = self.admin("GET", f"/orders/{pk}/")
        return found

    def _store(self, buyer: requests.Session, method: str, path: str, body: Any = None) -> Any:
        reply = buyer.request(method, f"{self.url}/api{path}", json=body, timeout=30)
        assert reply.ok, f"{method} {path}: HTTP {reply.status_code} {reply.text[:300]}"
        return reply.json()


def _ensure_installed() -> Path:
    """The engine's virtualenv, installed by the project's own script when it is missing."""
    python = OSCAR_VENV / "bin" / "python"
    if not (OSCAR_VENV / ".stamp").exists():
        subprocess.run([str(ROOT / "dev"), "engines"], check=True, cwd=ROOT)
    return python


@contextmanager
def oscar_shop() -> Iterator[OscarShop]:
    python = _ensure_installed()
    with tempfile.TemporaryDirectory(prefix="oscar-shop-") as data:
        shutil.copy(OSCAR_VENV / "template" / "shop.sqlite3", Path(data) / "shop.sqlite3")
        env = {
            **os.environ,
            "OSCAR_SHOP_DATA": data,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        subprocess.run(
            [str(python), "manage.py", "shell", "-c", ACCOUNTS],
            check=True,
            cwd=OSCAR_SHOP,
            env=env,
            capture_output=True,
            timeout=START_S,
        )
        port = free_port()
        log = (Path(data) / "server.log").open("wb")
        server = subprocess.Popen(
            [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=OSCAR_SHOP,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        shop = OscarShop(f"http://127.0.0.1:{port}", "owner", "owner-pw", "bridge", "bridge-pw")
        try:
            _wait_up(shop, server, Path(data) / "server.log")
            yield shop
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()


def _wait_up(shop: OscarShop, server: subprocess.Popen[bytes], log: Path) -> None:
    """Polls the API root until the server answers (Django's start takes seconds on a loaded machine)."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the Oscar shop exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{shop.url}/api/", timeout=2).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)  # poll interval while the server starts, not synchronisation of a result
    raise AssertionError(f"the Oscar shop did not answer within {START_S} s: {log.read_text()[-2000:]}")
