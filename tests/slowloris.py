"""Slow-loris clients for the webhook endpoint's tests and benchmark: connections that each begin a request
and never finish it, dripping a few bytes now and then so no idle timeout ends them."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

BEGIN = b"POST /webhooks/corner HTTP/1.1\r\nContent-Length: 50\r\n"


@contextlib.contextmanager
def slow_clients(
    port: int, count: int, *, every_s: float = 0.5, drip: bytes = b"X-Slow: 1\r\n"
) -> Iterator[None]:
    """`count` connections to `port`, each sending `BEGIN` then `drip` every `every_s`, closed on exit."""
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    done = threading.Event()

    def feed() -> None:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.sendall(BEGIN)
        while not done.wait(every_s):
            for sock in held:
                with contextlib.suppress(OSError):  # the server may have answered and closed it
                    sock.sendall(drip)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        yield
    finally:
        done.set()
        feeder.join()
        for sock in held:
            sock.close()
