"""Money: how a line's amounts are rounded and how a document's totals follow from its lines (docs/sales.md).

Every amount is a ``Decimal``; nothing here goes through a float. A line is rounded once, to the cent, half up:
its net (quantity × unit price, less the discount) and then its VAT (net × rate). A document's totals are the
sums of its lines' rounded amounts, so a printed document always adds up, line by line and rate by rate.
"""
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def to_cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, half away from zero (0.005 → 0.01, −0.005 → −0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def line_amounts(quantity: Decimal, unit_price: Decimal, discount: Decimal, vat_rate: Decimal) -> LineAmounts:
    """The rounded net and VAT of one line (``discount`` and ``vat_rate`` in per cent)."""
    with localcontext() as context:
        context.prec = 50  # products of the largest quantities and prices stay exact before the one rounding
        net = to_cents(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
        return LineAmounts(net=net, vat=to_cents(net * vat_rate / HUNDRED))


@dataclass(frozen=True)
class Totals:
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    by_rate: dict = field(default_factory=dict)  # VAT rate → LineAmounts of the lines at that rate

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def totals(lines) -> Totals:
    """The totals of lines that carry their rounded ``net``, ``vat`` and ``vat_rate``."""
    net, vat, by_rate = Decimal("0.00"), Decimal("0.00"), {}
    for line in lines:
        net += line.net
        vat += line.vat
        before = by_rate.get(line.vat_rate, LineAmounts(Decimal("0.00"), Decimal("0.00")))
        by_rate[line.vat_rate] = LineAmounts(before.net + line.net, before.vat + line.vat)
    return Totals(net=net, vat=vat, by_rate=dict(sorted(by_rate.items())))
