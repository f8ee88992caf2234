"""The box's page as a Flask app: a PIN login (rate-limited, `pin.py`), Flask's signed session, Flask-WTF
CSRF tokens on every form, Jinja2 templates, and a server-sent event stream that re-renders the live part
of the page whenever the box's state changes (a sale, an order, a device), so nobody reloads.

The page shows no secret: not the PIN, not the broker password, not pickup codes or keys.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from flask import Flask, Response, redirect, render_template, request, session, stream_with_context, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from firmware_agent.web.facts import Activity, Found, Snapshot
from firmware_agent.web.pin import PinGuard

STREAM_S: Final = 300.0  # one event stream's life; the browser reconnects by itself
MAX_STREAMS: Final = 4  # open pages with live updates; the server's other threads stay free for clicks
POLL_S: Final = 2.0  # state that changes without a journal entry (devices, orders) is looked at this often
HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class BoxActions:
    """What the page's buttons do; each goes through the core loop (see `service.py`)."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        test_print: Callable[[], str],
        reprint: Callable[[str], str],
        check_config: Callable[[], list[str]],
        search: Callable[[str], list[Found]] = lambda text: [],
    ) -> None:
        self.snapshot, self.test_print, self.reprint, self.check_config = (
            snapshot,
            test_print,
            reprint,
            check_config,
        )
        self.search = search


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
        )

    @app.post("/check")
    def check() -> Any:
        if not signed_in():
            return redirect(url_for("login_form"))
        problems = actions.check_config()
        return render_template(
            "box_home.html", s=actions.snapshot(), notice=None, problems=problems, search="", found=None
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
