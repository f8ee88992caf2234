"""The box's release version, read from the installed distribution's metadata: pyproject.toml is its one
source, and the box never imports the CLI package for it (docs/architecture.md)."""

from importlib.metadata import version

VERSION = version("tillbridge")
