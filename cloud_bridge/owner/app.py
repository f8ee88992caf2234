"""The owner's page as a Flask app: server-rendered Jinja2 templates, Flask's signed session cookie,
Flask-WTF's CSRF protection on every form, argon2 password checks (`logins.py`).

The session holds the login's shop and nothing else; every page and action reads that shop only. No
secret (shop credentials, pickup codes, broker passwords) is ever passed to a template. The session key is
made once and kept in the database, so every worker's page accepts the same sessions and a restart does not
log anyone out.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from flask import Flask, Response, abort, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from cloud_bridge import models as m
from cloud_bridge import state
from cloud_bridge.config import BridgeConfig
from cloud_bridge.db import Database
from cloud_bridge.owner import figures
from cloud_bridge.owner.chart import week_chart
from cloud_bridge.owner.logins import check_login
from cloud_bridge.status import retry_parked

SESSION_HOURS: Final = 12
HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def make_app(
    config: BridgeConfig, db: Database, *, secure_cookies: bool = True, clock: Callable[[], float] = time.time
) -> Flask:
    """`secure_cookies`: the session cookie only travels over HTTPS (the TLS proxy of docs/web.md); off
    only for a page on localhost (the demo, tests)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_session_key(db),
        SESSION_COOKIE_NAME="tillbridge_owner",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
        MAX_CONTENT_LENGTH=16 * 1024,
    )
    CSRFProtect(app)
    app.jinja_env.filters["money"] = lambda cents: f"{cents / 100:,.2f}"
    app.jinja_env.filters["age"] = _age

    @app.before_request
    def connect() -> None:
        db.db.connect(reuse_if_open=True)

    @app.teardown_request
    def disconnect(_: BaseException | None) -> None:
        if not db.db.is_closed():
            db.db.close()

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(CSRFError)
    def refused(exc: CSRFError) -> tuple[str, int]:
        return render_template(
            "message.html", title="Refused", text=f"{exc.description} Reload the page."
        ), 400

    @app.get("/login")
    def login_form() -> str:
        return render_template("login.html", failed=False)

    @app.post("/login")
    def login() -> Any:
        user = request.form.get("user", "")[:64]
        shop = check_login(user, request.form.get("password", "")[:1024])
        if shop is None:
            return render_template("login.html", failed=True, user=user), 401
        session.clear()
        session.permanent = True
        session["shop"] = shop
        session["user"] = user
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login_form"))

    @app.get("/")
    def home() -> Any:
        shop = session.get("shop")
        if not shop:
            return redirect(url_for("login_form"))
        now = clock()
        search = request.args.get("q", "")[:100]
        sales = figures.sales(shop, now)
        found, low = figures.stock(shop, search)
        return render_template(
            "home.html",
            shop=shop,
            user=session.get("user", ""),
            sales=sales,
            chart=week_chart(sales.days),
            search=search,
            found=found,
            low=low,
            waiting=figures.waiting_orders(shop, now),
            problems=figures.problems(shop),
            boxes=figures.fleet(config, shop, now),
            labels=figures.shelf_labels(config, shop, now),
            retried=request.args.get("retried"),
        )

    @app.post("/parked/retry")
    def retry() -> Any:
        shop = session.get("shop")
        if not shop:
            abort(403)
        key = request.form.get("key", "")[:400]
        exists = m.Parked.get_or_none(m.Parked.shop == shop, m.Parked.key == key) is not None
        if not exists:
            abort(404)
        with db.write():
            retry_parked(shop, key)
        return redirect(url_for("home", retried=key) + "#parked")

    return app


def _session_key(db: Database) -> str:
    """The key that signs sessions, made by the first page to start and shared through the database."""
    with connected(db), db.write():
        value = secrets.token_hex(32)
        return state.once(state.Key.OWNER_SESSION, value)


@contextmanager
def connected(db: Database) -> Iterator[None]:
    """This thread's connection for a moment: the one it has (left open) or a new one (closed after), so
    a page started beside a worker in one process (the demo) does not close the worker's connection."""
    opened = db.db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened:
            db.db.close()


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60} min" if hours < 48 else f"{hours // 24} days"
