"""Secret config values: a password, a key, a URL that carries a password, a table of credentials.

Each is compared by value but never shown: `repr`, `str`, an f-string, a log line and a config error all see
`***` (or, for a URL, the URL with its password masked). The value itself comes out only through `reveal()`
(or a credential table's item access), at the one place that hands it to a broker, a database or a shop.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

MASK = "***"


class Secret:
    """A password or key: compared and hashed by value, but never shown by `repr`, `str` or an error."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def shown(self) -> str:
        """What a message may say about the value."""
        return MASK

    def __repr__(self) -> str:
        return repr(self.shown())

    def __str__(self) -> str:
        return self.shown()

    def __format__(self, spec: str) -> str:
        return format(self.shown(), spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and type(other) is type(self) and other._value == self._value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled: pass reveal() where the value is really needed")


def mask_url(url: str) -> str:
    """`postgresql://user:pw@host/db` -> `postgresql://user:***@host/db`; a URL without a password as is."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password is None:
        return url
    return url.replace(f":{password}@", f":{MASK}@", 1)


class SecretUrl(Secret):
    """A URL that may carry a password (a database URL): shown with the password masked, so a log line
    still says which server and database it is."""

    __slots__ = ()

    def shown(self) -> str:
        return mask_url(self._value)


class SecretTable(Mapping[str, Any]):
    """A table of credentials whose keys depend on a platform (a shop's `[shop.credentials]`): its items are
    read by the code that needs them, but the table never shows a value."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key!r}: {MASK!r}" for key in self._items) + "}"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretTable) and other._items == self._items

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items)))

    def __reduce__(self) -> Any:
        raise TypeError("a SecretTable is not pickled")
