import os
import subprocess
import sys

from tillbridge import __version__


def test_version_is_printed_by_the_console_script():
    out = subprocess.run(
        [sys.executable, "-m", "tillbridge", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"tillbridge {__version__}"


def test_output_piped_into_head_ends_quietly_without_a_traceback():
    """`tillbridge … | head -1`: the reader goes away before the command has written everything."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write meets a broken pipe
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tillbridge", "scale", "protocols"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.returncode == 141  # what a shell reports for a command ended by SIGPIPE


def test_support_call_of_a_command_outside_the_allow_list_names_the_allowed_ones():
    result = subprocess.run(
        [sys.executable, "-m", "tillbridge", "support", "call", "--shop", "s", "box-1", "frobnicate"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "frobnicate" in result.stderr and "support-" not in result.stderr  # no internal request id
    for name in ("status", "devices", "logs", "config.set", "print.test"):
        assert name in result.stderr


def test_the_box_s_command_line_works_without_the_simulators():
    """The SD image installs no simulators: every command must still be listed and parse on the box."""
    hide = "import sys; sys.modules['simulators'] = None; from tillbridge.cli import main; main(['--help'])"
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "receipts" in result.stdout and "agent" in result.stdout
