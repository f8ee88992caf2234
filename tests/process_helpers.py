"""How a helper that runs a part in a child process (a till, a bridge worker) ends it: a clean stop that
falls back to kill -9, or kill -9 straight away, which is how tests show that nothing held only in the
child's memory is lost."""

from __future__ import annotations

import subprocess
from typing import Any


class ChildProcess:
    process: subprocess.Popen[Any] | None = None

    def kill(self) -> None:
        """kill -9: whatever the child had in memory is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; kill -9 when it has not ended within 15 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
