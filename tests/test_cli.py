import os
import re
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


WITHOUT_SIMULATORS = (
    "import sys; sys.modules['simulators'] = None; from tillbridge.cli import main; raise SystemExit(main())"
)


def test_on_a_box_without_the_simulators_every_command_is_listed_and_a_simulator_is_refused_by_name():
    """The box's wheel has no simulators (image/build-wheels.sh): the CLI must still start, and a dev tool
    that needs them says so in one line, not a traceback."""

    def tillbridge(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", WITHOUT_SIMULATORS, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    listed = tillbridge("--help")
    assert listed.returncode == 0 and "receipts" in listed.stdout and "agent" in listed.stdout, listed.stderr
    refused = tillbridge("receipts", "sample")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "tillbridge receipts: this needs the simulators" in refused.stderr


def test_the_readme_command_table_lists_every_command():
    """A new user reads the README's table; `tillbridge --help` is the truth it must match."""
    from pathlib import Path

    from tillbridge.cli import build_parser

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("| command | what it is for |") :].split("\n\n")[0]
    documented = {row.split("`tillbridge ")[1].split()[0].rstrip("`") for row in table.splitlines()[2:]}
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(subparsers.choices, dict) and documented == set(subparsers.choices)
    # and every action of a command (`bridge retry`, `ticket print`) in that command's rows
    for name, parser in subparsers.choices.items():
        rows = " ".join(row for row in table.splitlines() if f"`tillbridge {name}" in row)
        actions = [
            choice
            for action in parser._actions
            if action.choices and not action.option_strings
            for choice in action.choices
        ]
        missing = [a for a in actions if not re.search(rf"[ /|`\[]{re.escape(a)}[ /|`\]]", rows)]
        assert not missing, f"README: tillbridge {name} {missing} not in the command table"
