"""Starting cost rates. Team leads keep them current in the admin (Legal > Cost rates).

The tax amounts are indexed every year (Kostenwet invordering rijksbelastingen, Uitvoeringsregeling):
check them each January. The dwangbevel amount is a placeholder (see its note) and is marked as not
verified, so every approval page that would charge it shows a warning.
"""

from datetime import date
from decimal import Decimal

from django.db import migrations

CHECK_YEARLY = "Check the Kostenwet invordering rijksbelastingen every January: amounts are indexed yearly."

RATES = [
    # Invorderingswet 1990 / Kostenwet art. 2: aanmaning costs, two bands around EUR 454 principal.
    {
        "regime": "tax",
        "kind": "aanmaning",
        "valid_from": date(2025, 1, 1),
        "band_from": Decimal("0.00"),
        "band_below": Decimal("454.00"),
        "amount": Decimal("9.00"),
        "source": "Kostenwet invordering rijksbelastingen, art. 2 (aanmaning, invorderingsbedrag < EUR 454)",
        "note": CHECK_YEARLY + " 2022 was EUR 8 / EUR 18; recent years about EUR 9 / EUR 19.",
    },
    {
        "regime": "tax",
        "kind": "aanmaning",
        "valid_from": date(2025, 1, 1),
        "band_from": Decimal("454.00"),
        "band_below": None,
        "amount": Decimal("19.00"),
        "source": "Kostenwet invordering rijksbelastingen, art. 2 (aanmaning, invorderingsbedrag >= EUR 454)",
        "note": CHECK_YEARLY,
    },
    # Kostenwet art. 3: betekening dwangbevel. The statutory amount rises with the amount collected up to
    # a maximum (2023: minimum EUR 46, maximum EUR 13,745). Only the minimum is entered here.
    {
        "regime": "tax",
        "kind": "dwangbevel",
        "valid_from": date(2025, 1, 1),
        "band_from": Decimal("0.00"),
        "band_below": None,
        "amount": Decimal("46.00"),
        "source": "Kostenwet invordering rijksbelastingen, art. 3 lid 1 (as amended per 2023)",
        "note": "PLACEHOLDER: the 2023 minimum for every amount. Replace with the current Kostenwet art. 3 "
        "scale (one row per amount band) before approving dwangbevels. " + CHECK_YEARLY,
        "is_verified": False,
    },
    # Awb 4:113: optional fee for an aanmaning, EUR 7 below EUR 500 and EUR 15 from EUR 500. Fixed in the
    # Awb (not indexed); a municipality may choose not to charge it (then end these rows).
    {
        "regime": "administrative",
        "kind": "awb_fee",
        "valid_from": date(2009, 7, 1),
        "band_from": Decimal("0.00"),
        "band_below": Decimal("500.00"),
        "amount": Decimal("7.00"),
        "source": "Algemene wet bestuursrecht, art. 4:113 lid 1",
        "note": "Optional for the municipality; must be stated in the aanmaning.",
        "is_verified": True,
    },
    {
        "regime": "administrative",
        "kind": "awb_fee",
        "valid_from": date(2009, 7, 1),
        "band_from": Decimal("500.00"),
        "band_below": None,
        "amount": Decimal("15.00"),
        "source": "Algemene wet bestuursrecht, art. 4:113 lid 1",
        "note": "Optional for the municipality; must be stated in the aanmaning.",
        "is_verified": True,
    },
]


def add_rates(apps, schema_editor):
    CostRate = apps.get_model("dunning", "CostRate")
    for row in RATES:
        fields = {"is_verified": False, **row}
        CostRate.objects.get_or_create(
            regime=fields.pop("regime"),
            kind=fields.pop("kind"),
            valid_from=fields.pop("valid_from"),
            band_from=fields.pop("band_from"),
            defaults=fields,
        )


def remove_rates(apps, schema_editor):
    CostRate = apps.get_model("dunning", "CostRate")
    for row in RATES:
        CostRate.objects.filter(
            regime=row["regime"], kind=row["kind"], valid_from=row["valid_from"], band_from=row["band_from"]
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("dunning", "0006_legal_costs_arrangements")]

    operations = [migrations.RunPython(add_rates, remove_rates)]
