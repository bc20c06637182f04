"""Default retention rules (reasoning in docs/retention.md); on PostgreSQL, an index for the trail by debtor."""

from django.db import migrations

DEFAULTS = [
    (
        "message_content",
        6,
        "months",
        "anonymise",
        "sending (or creation, for messages never sent)",
        "Art. 5(1)(e) GDPR. The outbox row (step, channel, date, template and segment version) stays as proof "
        "that and how the person was reminded; the rendered text can be re-created from the template version. "
        "Kept longer while the claim is open, paused or under a data-subject request.",
    ),
    (
        "delivery_events",
        6,
        "months",
        "delete",
        "the event",
        "Art. 5(1)(e) GDPR. Delivery details serve fallback and troubleshooting within weeks; the message keeps "
        "its sent/delivered/bounced dates.",
    ),
    (
        "debtor_contact",
        24,
        "months",
        "anonymise",
        "the debtor's last claim closed (or the debtor's creation, without claims)",
        "Art. 5(1)(e) GDPR. Two years covers refunds, late objections and the next yearly assessment; after "
        "that the tax system is the source again. Financial history stays, without identity.",
    ),
    (
        "care_flags",
        3,
        "months",
        "delete",
        "the flag's end date",
        "Art. 5(1)(c) and (e), art. 9 GDPR: the reason may reveal health. Three months lets a relapse be "
        "recognised without keeping a vulnerability on file.",
    ),
    (
        "payer_details",
        12,
        "months",
        "anonymise",
        "the payment date",
        "Art. 5(1)(c) GDPR. Payer name and account serve matching and refunds; after a year the bank statement "
        "in the financial administration is the record. The amount and date stay (art. 52 AWR).",
    ),
    (
        "financial_records",
        84,
        "months",
        "delete",
        "the claim closed (paid, cancelled or written off)",
        "Art. 52 AWR and art. 2:10 BW: seven years of financial records; then nothing requires them.",
    ),
    (
        "audit_trail",
        84,
        "months",
        "delete",
        "the entry",
        "Art. 5(2) and 32 GDPR (accountability, security): as long as the financial records whose changes "
        "it accounts for. Values are masked, so the trail holds no contact data.",
    ),
    (
        "subject_requests",
        36,
        "months",
        "delete",
        "the request was handled",
        "Art. 5(2) GDPR: showing that requests were answered on time; three years covers a complaint to the "
        "Autoriteit Persoonsgegevens and court proceedings.",
    ),
]


def create_defaults(apps, schema_editor):
    RetentionRule = apps.get_model("compliance", "RetentionRule")
    for category, period, unit, action, starts_from, basis in DEFAULTS:
        if not RetentionRule.objects.filter(category=category).exists():
            RetentionRule.objects.create(
                category=category,
                period=period,
                period_unit=unit,
                action=action,
                starts_from=starts_from,
                legal_basis=basis,
            )


def remove_defaults(apps, schema_editor):
    apps.get_model("compliance", "RetentionRule").objects.all().delete()


def debtor_index(apps, schema_editor):
    # "Who viewed or changed debtor X" filters on additional_data->'debtor_id'; without an index that is a
    # scan of the whole trail. Only PostgreSQL gets an expression index; SQLite installs are small.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS auditlog_logentry_debtor_idx "
            "ON auditlog_logentry ((additional_data -> 'debtor_id'))"
        )


def drop_debtor_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS auditlog_logentry_debtor_idx")


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_retention_and_requests"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunPython(create_defaults, remove_defaults),
        migrations.RunPython(debtor_index, drop_debtor_index),
    ]
