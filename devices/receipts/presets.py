"""Receipt templates shipped with the box, for the common ways POS software lays a receipt out.

Each preset names a layout, not a brand: many POS print the same way. `tillbridge receipts learn FILE
--template NAME` shows how a preset reads a captured receipt; a shop whose POS prints otherwise writes its
own rules in the config (`[receipts.template]`, see docs/receipts.md). The simulated POS
(`simulators.pos`) prints every one of these layouts, and the tests read them back through real bytes.
"""

from __future__ import annotations

from devices.receipts.template import ReceiptTemplate, TemplateError

AMOUNT = r"-?[€$£]?\s?\d{1,3}(?:[.,' ]?\d{3})*(?:[.,]\d{1,2})?-?"
"""An amount as printed, loosely: `parse_money` decides whether it really is one."""
QTY = r"\d{1,6}(?:[.,]\d{1,3})?"
_COLUMNS = (
    rf"(?P<code>[0-9A-Z][0-9A-Z._/-]{{0,19}})\s+(?P<name>.+?)\s+(?P<qty>{QTY})\s*(?P<unit>kg|g|l)?\s*x\s*"
    rf"(?P<unit_price>{AMOUNT})\s+(?P<amount>{AMOUNT})"
)
_TWO_LINE = (
    rf"(?P<name>\S.*?)\n\s+(?P<qty>{QTY})\s*(?P<unit>kg|lb)?\s*@\s*(?P<unit_price>{AMOUNT})"
    rf"(?:/(?:kg|lb))?\s+(?P<amount>{AMOUNT})"
)

PRESETS: dict[str, ReceiptTemplate] = {
    template.name: template
    for template in (
        ReceiptTemplate.build(
            "code-columns",
            description="article code, name, quantity x unit price, line total; decimal comma (most EU POS)",
            sale=[_COLUMNS],
            void=[rf"(?:VOID|ANUL\S*|STORNO)\s+{_COLUMNS}"],
            returns=[rf"(?:RETURN|DEVOL\S*|RETOUR)\s+{_COLUMNS}"],
            total=[rf"(?:TOTAL|SUMME|TOTALE)(?:\s+(?:EUR|€))?\s+(?P<total>{AMOUNT})"],
            number=[
                r"(?:Receipt|Ticket|Bon|Factura simplificada|Recibo)\s*(?:no\.?|n[º°o]\.?|#|Nr\.?)?\s*:?\s*"
                r"(?P<number>[A-Z0-9/-]{1,24})"
            ],
            reprint=[r"\*+\s*(?:COPY|REPRINT|COPIA|DUPLICADO|KOPIE)\s*\*+"],
            decimal=",",
        ),
        ReceiptTemplate.build(
            "two-line",
            description="name on one line, quantity @ unit price and total under it; decimal point (UK, US)",
            sale=[_TWO_LINE],
            void=[rf"VOID\s+{_TWO_LINE}"],
            returns=[rf"REFUND\s+{_TWO_LINE}"],
            total=[rf"(?:BALANCE DUE|TOTAL)\s+(?P<total>{AMOUNT})"],
            number=[r"(?:Trans(?:action)?|Receipt)\s*(?:#|No\.?)\s*:?\s*(?P<number>[A-Z0-9-]{1,24})"],
            reprint=[r"\*+\s*(?:COPY|REPRINT|DUPLICATE)\s*\*+"],
            decimal=".",
        ),
        ReceiptTemplate.build(
            "name-amount",
            description="an optional 'N x' before the name, the line total at the right; decimal comma",
            sale=[rf"(?:(?P<qty>\d{{1,4}})\s*[xX]\s+)?(?P<name>\S.*?)\s{{2,}}(?P<amount>{AMOUNT})"],
            void=[
                rf"(?:ANUL\S*|VOID|STORNO)\s*:?\s+(?:(?P<qty>\d{{1,4}})\s*[xX]\s+)?(?P<name>\S.*?)\s{{2,}}(?P<amount>{AMOUNT})"
            ],
            total=[rf"(?:TOTAL|SUMME|A PAGAR)(?:\s+(?:EUR|€))?\s*:?\s+(?P<total>{AMOUNT})"],
            ignore=[r"(?:SUBTOTAL|SUBTOTAAL|ZWISCHENSUMME)\s.*", r".*\bIVA\b.*", r".*\bMwSt\b.*"],
            number=[r"(?:N[º°o]\.?|Ticket|Bon|#)\s*:?\s*(?P<number>\d{1,12})"],
            reprint=[r"\*+\s*(?:COPIA|COPY|KOPIE)\s*\*+"],
            decimal=",",
        ),
    )
}


def preset(name: str) -> ReceiptTemplate:
    try:
        return PRESETS[name]
    except KeyError:
        raise TemplateError(f"unknown receipt template {name!r}; presets: {', '.join(PRESETS)}") from None
