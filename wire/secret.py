"""A secret config value (a password, a key) for the box's config and the bridge's alike.

It lives in `wire`, the one package both sides import, because it is the standard library only.
"""

from __future__ import annotations


class Secret:
    """A password or key: compared and hashed by value, but never shown by `repr`, `str` or an error."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))
