"""Serving a web page (the box's on the LAN, and the owner's on the bridge) with waitress, a production WSGI
server (HTTP parsing, limits and threads are its job), in a thread of its own.

It lives with the box's page because the box must not import the CLI package (docs/architecture.md); the
bridge's command and the demo import it from here."""

from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server


class PageServer:
    """A WSGI app on `listen` ("host:port"; port 0 picks a free one) until `stop()`."""

    def __init__(self, app: Any, listen: str, *, threads: int = 4, name: str = "web") -> None:
        host, _, port = listen.rpartition(":")
        self.server = create_server(
            app,
            host=host.strip("[]") or "127.0.0.1",
            port=int(port),
            threads=threads,
            ident=None,
            clear_untrusted_proxy_headers=True,
        )
        self.thread = threading.Thread(target=self.server.run, name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def url(self) -> str:
        host = str(self.server.effective_host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    def start(self) -> PageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Closes the listening socket and the worker threads from inside the server's own loop."""
        if self.thread.is_alive():
            self.server.trigger.pull_trigger(self._close)
            self.thread.join(5)
        else:
            self.server.close()
        self.server.task_dispatcher.shutdown(timeout=5)

    def _close(self) -> None:
        for channel in list(self.server._map.values()):
            channel.close()
