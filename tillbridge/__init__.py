"""The `tillbridge` command line: one console script whose subcommands live in `tillbridge.commands`."""

__version__ = "0.1.0"
