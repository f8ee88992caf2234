import subprocess
import sys

from tillbridge import __version__


def test_version_is_printed_by_the_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "tillbridge", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"tillbridge {__version__}"
