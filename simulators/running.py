"""What every stand-in that runs in the background (broker, printer, scale, shop) offers alike: it runs
between `start()` and `stop()`, and as a with-block, so a test or the demo cannot leave one running."""

from __future__ import annotations

from typing import Self


class Running:
    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
