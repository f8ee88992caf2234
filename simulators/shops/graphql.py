"""Just enough GraphQL for the Shopify simulator: parse an operation, resolve its variables, price it the
way Shopify's cost calculator roughly does, and cut a resolved result down to the fields asked for, so a
client that reads a field it did not select fails here as it would against Shopify.

Not supported (refused with a `GraphQLError`): fragments, block strings, several operations in one document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

CONNECTIONS: Final = frozenset(
    {"productVariants", "products", "orders", "lineItems", "fulfillmentOrders", "variants"}
)
_TOKEN: Final = re.compile(
    r"""(?P<skip>[\s,]+|\#[^\n]*)
      | (?P<spread>\.\.\.)
      | (?P<punct>[!$():=@\[\]{}|])
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<name>[_A-Za-z][_0-9A-Za-z]*)""",
    re.VERBOSE,
)


class GraphQLError(ValueError):
    """A document the simulator (or Shopify) cannot run; the message is what Shopify would say."""


@dataclass
class Field:
    name: str
    alias: str | None
    args: dict[str, Any]
    directives: dict[str, dict[str, Any]]
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name

    def child(self, name: str) -> Field | None:
        return next((f for f in self.selections if f.name == name), None)


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    fields: list[Field]


_VAR = object()


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens = list(_tokens(text))
        self.pos = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(
                f"Parse error: expected {expected or 'a token'}, found {token or 'end of document'}"
            )
        self.pos += 1
        return token

    def operation(self) -> Operation:
        kind = "query"
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{"):
                self.take()  # operation name
            if self.peek() == "(":
                self.skip_group("(", ")")  # variable definitions: types are not checked
        fields = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("Parse error: only one operation per document is supported")
        return Operation(kind, fields)

    def skip_group(self, open_: str, close: str) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += (token == open_) - (token == close)
            if depth == 0:
                return

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while self.peek() != "}":
            if self.peek() == "...":
                raise GraphQLError("Fragments are not supported by the simulator")
            fields.append(self.selection())
        self.take("}")
        return fields

    def selection(self) -> Field:
        name, alias = self.name(), None
        if self.peek() == ":":
            self.take(":")
            alias, name = name, self.name()
        args = self.arguments() if self.peek() == "(" else {}
        directives = {}
        while self.peek() == "@":
            self.take("@")
            directive = self.name()
            directives[directive] = self.arguments() if self.peek() == "(" else {}
        selections = self.selection_set() if self.peek() == "{" else []
        return Field(name, alias, args, directives, selections)

    def name(self) -> str:
        token = self.take()
        if not re.fullmatch(r"[_A-Za-z]\w*", token):
            raise GraphQLError(f"Parse error: expected a name, found {token}")
        return token

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while self.peek() != ")":
            key = self.name()
            self.take(":")
            args[key] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        token = self.take()
        if token == "$":
            name = self.name()
            if name not in self.variables:
                raise GraphQLError(f"Variable ${name} is declared but not provided")
            return self.variables[name]
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":
            obj = {}
            while self.peek() != "}":
                key = self.name()
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        return _literal(token)


def _literal(token: str) -> Any:
    if token.startswith('"'):
        return json.loads(token)
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if re.fullmatch(r"-?\d[\d.eE+-]*", token):
        return float(token)
    return token  # an enum value


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GraphQLError(f"Parse error on {text[pos : pos + 10]!r}")
        if match.lastgroup != "skip":
            out.append(match.group())
        pos = match.end()
    return out


def parse(query: str, variables: dict[str, Any] | None = None) -> Operation:
    return _Parser(query, variables or {}).operation()


def cost(f: Field) -> int:
    """Scalars are free, objects cost 1, a connection costs 2 + `first` × its node's cost."""
    if f.name in CONNECTIONS:
        first = f.args.get("first") or 0
        node = f.child("nodes") or f.child("edges")
        per_node = cost(node) if node is not None else 1
        page_info = 1 if f.child("pageInfo") else 0
        return 2 + int(first) * max(1, per_node) + page_info
    if not f.selections:
        return 0
    return 1 + sum(cost(c) for c in f.selections)


def prune(value: Any, selections: list[Field], where: str) -> Any:
    """`value` reduced to the selected fields; a selected field the type lacks is an error, as in Shopify.
    A field whose value depends on its arguments (`inventoryLevel(locationId:)`, a connection's `first`)
    is given as a callable taking those arguments.
    """
    if not selections or value is None:
        return value
    if isinstance(value, list):
        return [prune(v, selections, where) for v in value]
    out = {}
    for sel in selections:
        if sel.name == "__typename":
            out[sel.key] = where
            continue
        if sel.name not in value:
            raise GraphQLError(f"Field '{sel.name}' doesn't exist on type '{where}'")
        found = value[sel.name]
        if callable(found):
            found = found(sel.args)
        out[sel.key] = prune(found, sel.selections, sel.name)
    return out
