"""The words on order tickets, in the shop's language (`[orders] language`): Spanish and English.

A kitchen reads the ticket at a glance, so every label is short; a word missing from a language falls back
to English rather than failing a print.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "online": "ONLINE ORDER",
        "phone": "PHONE ORDER",
        "order": "Order",
        "pickup": "PICKUP",
        "delivery": "DELIVERY",
        "asap": "AS SOON AS POSSIBLE",
        "for": "For",
        "placed": "Placed",
        "phone_no": "Phone",
        "address": "Address",
        "note": "Note",
        "allergies": "ALLERGIES",
        "warning": "CHECK",
        "total": "TOTAL",
        "paid": "PAID ONLINE",
        "due": "TO PAY",
        "station": "Station",
        "counter": "COUNTER",
        "scan": "Scan: next step",
        "copy": "Scan: print again",
        "more": "Other stations",
    },
    "es": {
        "online": "PEDIDO ONLINE",
        "phone": "PEDIDO TELÉFONO",
        "order": "Pedido",
        "pickup": "RECOGER",
        "delivery": "A DOMICILIO",
        "asap": "LO ANTES POSIBLE",
        "for": "Para",
        "placed": "Hecho",
        "phone_no": "Tel.",
        "address": "Dirección",
        "note": "Nota",
        "allergies": "ALERGIAS",
        "warning": "REVISAR",
        "total": "TOTAL",
        "paid": "PAGADO ONLINE",
        "due": "A COBRAR",
        "station": "Puesto",
        "counter": "MOSTRADOR",
        "scan": "Escanear: siguiente paso",
        "copy": "Escanear: imprimir copia",
        "more": "Otros puestos",
    },
}
LANGUAGES: Final = frozenset(WORDS)


def word(language: str, key: str) -> str:
    return WORDS.get(language, WORDS["en"]).get(key) or WORDS["en"][key]
