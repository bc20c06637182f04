"""Starting prices per channel, so cost figures mean something from day one (edit them in the admin).

E-mail: ESP price per message; SMS: a Dutch bulk-SMS rate; letter: print, envelope and PostNL
business mail. Rough 2026 figures; the municipality replaces them with its contract prices.
"""

import datetime
from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("email", Decimal("0.0010"), "ESP, per message"),
    ("sms", Decimal("0.0700"), "bulk SMS, per message part"),
    ("letter", Decimal("0.8500"), "print, envelope and business postage"),
]
VALID_FROM = datetime.date(2020, 1, 1)


def add_defaults(apps, schema_editor):
    ChannelCost = apps.get_model("dunning", "ChannelCost")
    for channel, price, note in DEFAULTS:
        ChannelCost.objects.get_or_create(
            channel=channel, valid_from=VALID_FROM, defaults={"price_per_piece": price, "note": note}
        )


def remove_defaults(apps, schema_editor):
    ChannelCost = apps.get_model("dunning", "ChannelCost")
    ChannelCost.objects.filter(valid_from=VALID_FROM, channel__in=[c for c, _, _ in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("dunning", "0003_channel_cost_experiment_variant")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
