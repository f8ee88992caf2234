"""The box's config error, carrying every problem found (each naming the file and the key)."""

from __future__ import annotations

from collections.abc import Sequence

from configspec.problems import KeyPath as KeyPath
from configspec.problems import Problem as Problem
from configspec.problems import render_key as render_key
from firmware_agent.errors import ConfigError


class InvalidConfig(ConfigError):
    """Every problem found in one pass, one per line; `file` and `key` are those of the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("InvalidConfig needs at least one problem")
        first = problems[0]
        super().__init__(first.message, file=first.file or None, key=first.key or None)
        self.problems = tuple(problems)
        self.args = ("\n".join(map(str, problems)),)
