"""The box's page as a Flask app: a PIN login (rate-limited, `pin.py`), Flask's signed session, Flask-WTF
CSRF tokens on every form, Jinja2 templates, and a server-sent event stream that re-renders the live part
of the page whenever the box's state changes (a sale, an order, a device), so nobody reloads.

The page shows no secret: not the PIN, not the broker password, not pickup codes or keys.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flask import Flask, Response, redirect, render_template, request, session, stream_with_context, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from firmware_agent.web.facts import Activity, Found, Snapshot
from firmware_agent.web.pin import PinGuard

STREAM_S: Final = 300.0  # one event stream's life; the browser reconnects by itself
MAX_STREAMS: Final = 4  # open pages with live updates; the server's other threads stay free for clicks
STAGES: Final = frozenset({"accepted", "ready", "collected", "delivered"})  # where a button moves an order
MAX_ETA_MIN: Final = 600
MAX_LINES: Final = 20  # lines of one phone order (the session cookie holds them)
_TIME: Final = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
POLL_S: Final = 2.0  # state that changes without a journal entry (devices, orders) is looked at this often
HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class PhoneOrder:
    """A phone order as the floor took it down: created in the online shop through the bridge, so stock has
    one truth, then printed like every online order (docs/orders.md)."""

    customer: str
    phone: str
    pickup: bool
    address: str
    at: str  # "HH:MM" today, the shop's time; "" as soon as possible
    note: str
    allergies: str
    lines: tuple[tuple[str, int], ...]  # (sku, qty)


class BoxActions:
    """What the page's buttons do; each goes through the core loop (see `service.py`)."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        test_print: Callable[[], str],
        reprint: Callable[[str], str],
        check_config: Callable[[], list[str]],
        search: Callable[[str], list[Found]] = lambda text: [],
        move: Callable[[str, str, int | None], str] = lambda order_id, stage, eta: "",
        phone_order: Callable[[PhoneOrder], str] | None = None,
    ) -> None:
        self.snapshot, self.test_print, self.reprint, self.check_config = (
            snapshot,
            test_print,
            reprint,
            check_config,
        )
        self.search, self.move, self.phone_order = search, move, phone_order


def make_app(
    actions: BoxActions, activity: Activity, pin: str, clock: Callable[[], float] = time.time
) -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(
        SECRET_KEY=secrets.token_hex(32),  # sessions end when the agent restarts: log in again with the PIN
        SESSION_COOKIE_NAME="tillbridge_box",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=8 * 1024,
    )
    CSRFProtect(app)
    guard = PinGuard(pin)
    streams = threading.BoundedSemaphore(MAX_STREAMS)

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(CSRFError)
    def refused(exc: CSRFError) -> tuple[str, int]:
        return render_template("box_message.html", text=f"{exc.description} Reload the page."), 400

    @app.get("/login")
    def login_form() -> str:
        return render_template("box_login.html", wait=0)

    @app.post("/login")
    def login() -> Any:
        client = request.remote_addr or "?"
        now = clock()
        if guard.attempt(client, request.form.get("pin", "")[:32], now):
            session.clear()
            session["in"] = True
            return redirect(url_for("home"))
        wait = guard.wait_s(client, now)
        return render_template("box_login.html", wait=int(wait + 0.999), failed=True), 429 if wait else 401

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login_form"))

    def signed_in() -> bool:
        return bool(session.get("in"))

    @app.get("/")
    def home() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        search = request.args.get("q", "")[:100]
        return render_template(
            "box_home.html",
            s=actions.snapshot(),
            notice=session.pop("notice", None),
            problems=None,
            search=search,
            found=actions.search(search) if search.strip() else None,
            cart=session.get("cart", []),
            phone=actions.phone_order is not None,
        )

    @app.post("/check")
    def check() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        problems = actions.check_config()
        return render_template(
            "box_home.html",
            s=actions.snapshot(),
            notice=None,
            problems=problems,
            search="",
            found=None,
            cart=session.get("cart", []),
            phone=actions.phone_order is not None,
        )

    @app.post("/print-test")
    def print_test() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        session["notice"] = actions.test_print()
        return redirect(url_for("home"))

    @app.post("/orders/reprint")
    def reprint() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        session["notice"] = actions.reprint(request.form.get("order_id", "")[:100])
        return redirect(url_for("home") + "#orders")

    @app.post("/orders/move")
    def move() -> Any:
        """Accept (with an estimate in minutes), ready, collected or delivered: `FloorDesk.move`."""
        if not signed_in():
            return redirect(url_for("login_form"))
        stage = request.form.get("stage", "")
        if stage not in STAGES:
            return render_template("box_message.html", text=f"No order stage {stage[:20]!r}."), 400
        eta_text = request.form.get("eta_min", "").strip()
        if eta_text and not (eta_text.isdigit() and 0 < int(eta_text) <= MAX_ETA_MIN):
            why = f"The estimate must be a number of minutes from 1 to {MAX_ETA_MIN}, not {eta_text[:10]!r}."
            return render_template("box_message.html", text=why), 400
        eta = int(eta_text) if eta_text and stage == "accepted" else None
        session["notice"] = actions.move(request.form.get("order_id", "")[:100], stage, eta)
        return redirect(url_for("home") + "#orders")

    @app.post("/phone/add")
    def phone_add() -> Any:
        """A product into the phone order being taken (kept in the session: name and price from the
        catalog, never from the form)."""
        if not signed_in():
            return redirect(url_for("login_form"))
        if actions.phone_order is None:
            return render_template("box_message.html", text="Phone orders need the cloud link."), 400
        sku, qty = request.form.get("sku", "")[:100], _quantity(request.form.get("qty", "1"))
        product = next((p for p in actions.search(sku) if p.sku == sku), None)
        if product is None or qty is None:
            why = f"no product {sku!r}" if product is None else "a quantity from 1 to 99"
            return render_template("box_message.html", text=f"Not added: {why}."), 400
        cart = [line for line in session.get("cart", []) if line[0] != sku]
        if len(cart) >= MAX_LINES:
            return render_template(
                "box_message.html", text=f"A phone order has {MAX_LINES} lines at most."
            ), 400
        session["cart"] = [*cart, [sku, product.name[:60], product.price_cents, qty]]
        return redirect(url_for("home") + "#phone")

    @app.post("/phone/remove")
    def phone_remove() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        sku = request.form.get("sku", "")
        session["cart"] = [line for line in session.get("cart", []) if line[0] != sku]
        return redirect(url_for("home") + "#phone")

    @app.post("/phone/send")
    def phone_send() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        if actions.phone_order is None:
            return render_template("box_message.html", text="Phone orders need the cloud link."), 400
        order, problem = _phone_order(request.form, session.get("cart", []))
        if order is None:
            return render_template("box_message.html", text=f"Not sent: {problem}."), 400
        session["notice"] = actions.phone_order(order)
        session["cart"] = []
        return redirect(url_for("home") + "#orders")

    @app.get("/events")
    def events() -> Any:
        if not signed_in():
            return Response("log in first\n", 401, mimetype="text/plain")
        if not streams.acquire(blocking=False):  # the page still works, without live updates
            return Response("too many open pages with live updates\n", 503, mimetype="text/plain")

        def stream() -> Iterator[str]:
            ends = time.monotonic() + STREAM_S
            seen, last = -1, ""
            yield "retry: 2000\n\n"
            while time.monotonic() < ends:
                seen = activity.wait(seen, POLL_S)
                html = render_template("box_live.html", s=actions.snapshot())
                if html != last:
                    last = html
                    yield "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"
                else:
                    yield ": still here\n\n"  # a comment: finds a closed connection, keeps proxies open

        response = Response(stream_with_context(stream()), mimetype="text/event-stream")
        response.call_on_close(streams.release)  # the server closes every answer, finished or cut off
        return response

    return app


def _quantity(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < int(text) < 100 else None


def _phone_order(form: Mapping[str, str], cart: list[list[Any]]) -> tuple[PhoneOrder | None, str]:
    """The phone order the form and the session's lines make, or None and what is wrong with it."""

    def text(name: str, limit: int) -> str:
        raw = "".join(c if c.isprintable() else " " for c in form.get(name, ""))
        return " ".join(raw.split())[:limit].strip()  # one line: no control characters, no breaks

    customer, phone, address, at = (
        text("customer", 80),
        text("phone", 30),
        text("address", 200),
        text("at", 5),
    )
    pickup = form.get("kind", "pickup") != "delivery"
    if not cart:
        return None, "add at least one product"
    if not customer or not phone:
        return None, "the customer's name and phone are needed"
    if not pickup and not address:
        return None, "a delivery needs an address"
    if at and not _TIME.fullmatch(at):
        return None, f"the time must be HH:MM (24 h), not {at!r}"
    lines = tuple((str(line[0]), int(line[3])) for line in cart)
    return PhoneOrder(
        customer, phone, pickup, address, at, text("note", 300), text("allergies", 200), lines
    ), ""
