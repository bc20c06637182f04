"""Statutory amounts that are a formula in law (not indexed data).

Indexed or municipality-set amounts (aanmaning and dwangbevel costs, the Awb fee) are data with a
validity period and live in the database, never here.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# Besluit vergoeding voor buitengerechtelijke incassokosten, art. 2: (band width, rate).
WIK_SCALE: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)
WIK_MINIMUM = Decimal("40.00")
WIK_MAXIMUM = Decimal("6775.00")


def wik_collection_costs(principal: Decimal) -> Decimal:
    """Maximum extrajudicial collection costs on `principal` under the WIK scale (art. 6:96 BW).

    15% of the first 2,500, 10% of the next 2,500, 5% of the next 5,000, 1% of the next 190,000 and
    0.5% of the rest; at least 40 and at most 6,775 euro. Excluding VAT.
    """
    if not isinstance(principal, Decimal):
        raise TypeError("principal must be a Decimal")
    if principal <= 0:
        return Decimal("0.00")
    remaining = principal
    costs = Decimal("0")
    for width, rate in WIK_SCALE:
        part = remaining if width is None else min(remaining, width)
        costs += part * rate
        remaining -= part
        if remaining <= 0:
            break
    costs = min(max(costs, WIK_MINIMUM), WIK_MAXIMUM)
    return costs.quantize(CENT, rounding=ROUND_HALF_UP)
