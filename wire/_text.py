"""How a received value is shown in an error message: short, in JSON's words, safe for a log line."""

from __future__ import annotations

_LIMIT = 64
_NAMES = {list: "a list", dict: "an object", type(None): "null", bool: "a boolean"}


def show(value: object) -> str:
    """`'x'` for a string (clipped, so an attacker cannot flood the log), the JSON spelling otherwise."""
    if type(value) is str:
        return repr(value if len(value) <= _LIMIT else value[:_LIMIT] + "…")
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is int and value.bit_length() > 200:
        return "a very large integer"  # repr() of a huge int is slow, and refused past 4300 digits
    if type(value) in (int, float):
        return repr(value)
    return _NAMES.get(type(value), type(value).__name__)
