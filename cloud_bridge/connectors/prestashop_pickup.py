"""Which PrestaShop orders are pickups: those whose carrier is one of the shop's `pickup_carriers` or a
later version of one.

PrestaShop saves an edited carrier as a copy with a new id and the same `id_reference`, and keeps the
old row, `deleted`, for the orders that name it. An order placed after the owner edited the
click-and-collect carrier names the new id; matched by id alone it read as a delivery (the wrong ticket,
floor stage and shop call). So carriers are matched by reference: the connector reads the `id_reference`
of each carrier id an order names and of each configured one (`GET /carriers?filter[id]=[…]`, one
request for all it lacks), and keeps it: a row's `id_reference` is set when the row is made and never
changes, and ids are not reused, so what was read stays true for the connector's life (a shop has tens of
carriers, not thousands). Pure: the connector does the reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cloud_bridge.connectors._values import Invalid, as_obj

NO_CARRIER = "0"  # a virtual order's `id_carrier`: nothing to read


def _carrier_id(value: Any, what: str) -> str:
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()):
        raise Invalid(f"{what}: {text[:20]!r} is not a carrier id")
    return str(int(text))


class PickupCarriers:
    """The configured pickup carriers and the references read so far (see the module's docstring)."""

    def __init__(self, configured: Iterable[int | str]) -> None:
        self.configured = frozenset(str(c).strip() for c in configured)
        self._references: dict[str, str] = {}  # carrier id -> its id_reference ("" for no such carrier)

    def to_read(self, carrier_ids: Iterable[str]) -> list[str]:
        """The carrier ids whose reference must be read before `is_pickup` can answer for these orders'
        carriers: none when no pickup carrier is configured (every order is then a delivery)."""
        if not self.configured:
            return []
        wanted = {c for c in (*carrier_ids, *self.configured) if c.isascii() and c.isdigit()}
        wanted -= {NO_CARRIER, *self._references}
        return sorted(wanted, key=int)

    def learn(self, asked: Sequence[str], rows: Sequence[Any]) -> None:
        """The `carriers` rows (`id`, `id_reference`) answered for `asked`; an id asked for and not
        answered has no carrier and matches nothing. `Invalid` for a row that is not a carrier's."""
        found: dict[str, str] = {}
        for value in rows:
            row = as_obj(value, "carrier")
            found[_carrier_id(row.get("id"), "carrier id")] = _carrier_id(
                row.get("id_reference"), "carrier id_reference"
            )
        for carrier in asked:
            self._references[carrier] = found.get(carrier, "")
        self._references.update(found)

    def known(self, carrier_id: str) -> bool:
        """Whether `is_pickup` answers for this carrier from what was read (not only from the ids)."""
        return (
            not self.configured
            or carrier_id in self.configured
            or carrier_id == NO_CARRIER
            or (carrier_id in self._references and self.configured <= self._references.keys())
        )

    def is_pickup(self, carrier_id: str) -> bool:
        if carrier_id in self.configured:
            return True
        reference = self._references.get(carrier_id, "")
        pickup = {self._references.get(c, "") for c in self.configured} - {""}
        return bool(reference) and reference in pickup
