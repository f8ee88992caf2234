"""The `tillbridge` command line: one console script whose subcommands live in `tillbridge.commands`."""

from importlib.metadata import version

__version__ = version("tillbridge")
"""The installed distribution's version: pyproject.toml is its one source (firmware_agent.version too)."""
