"""Retention purge at scale: one million expired rows on PostgreSQL, timed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dunning_gdpr_bench .venv/bin/python bench/purge.py [--rows 1000000]

1. Migrates the database named by DATABASE_URL and empties the tables this bench fills.
2. Generates expired data with PostgreSQL COPY, in the proportions of a real municipality two and a half
   years after a tax year: per debtor one paid claim, one payment with payer details and four sent
   messages with a delivery event each. Expired rows = debtors (to anonymise) + payments (payer details
   to strip) + messages (content to blank) + delivery events (to delete) = --rows. One debtor in ten also
   has an open claim (a legal hold), so the holds are exercised too.
3. Runs `manage.py purge_expired` once in its own process and prints ONE JSON line: its wall time
   (including Django start-up), rows expired, rows changed per rule, the purge process's peak RSS in MB.

Not a test: run it by hand; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _copy(cursor, table: str, columns: list[str], rows, chunk: int = 20_000) -> None:
    """COPY rows in, streamed in chunks so memory stays flat however many rows."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, values in enumerate(rows, start=1):
            buffer.write("\t".join("\\N" if v is None else str(v) for v in values))
            buffer.write("\n")
            if n % chunk == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def generate(rows: int, now: datetime) -> dict[str, int]:
    from django.db import connection

    from campaigns.models import PolicyStep
    from dunning.models import Message
    from dunning.references import payment_reference_make
    from tests.factories import make_policy

    debtors = rows // 10  # per debtor: 1 debtor + 1 payment + 4 messages + 4 events = 10 expired rows
    policy = make_policy(name=f"Bench policy {now.timestamp():.0f}")
    steps = list(PolicyStep.objects.filter(policy=policy).order_by("order").values_list("pk", flat=True))
    closed = now - timedelta(days=30 * 30)
    ts = closed.isoformat()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_debtor")
        base = cursor.fetchone()[0] + 1
        _copy(
            cursor,
            "customers_debtor",
            [
                "id",
                "kind",
                "source_reference",
                "given_name",
                "surname_prefix",
                "surname",
                "street",
                "house_number",
                "postal_code",
                "city",
                "country",
                "email",
                "phone",
                "language",
                "created_at",
                "updated_at",
            ],
            (
                (
                    base + i,
                    "person",
                    f"B-{base + i}",
                    "Jan",
                    "",
                    f"Jansen{i}",
                    "Dorpsstraat",
                    str(i % 300),
                    "1234 AB",
                    "Voorbeeld",
                    "NL",
                    f"jan{i}@example.nl",
                    f"+316{i:08d}",
                    "nl",
                    ts,
                    ts,
                )
                for i in range(debtors)
            ),
        )
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM dunning_claim")
        claim_base = cursor.fetchone()[0] + 1
        open_claims = debtors // 10
        claim_columns = [
            "id",
            "debtor_id",
            "source_reference",
            "payment_reference",
            "kind",
            "regime",
            "description",
            "principal",
            "open_amount",
            "costs_amount",
            "issued_on",
            "due_on",
            "status",
            "policy_id",
            "settled_at",
            "schedule_shift_days",
            "created_at",
            "updated_at",
        ]

        def claims():
            for i in range(debtors):
                n = claim_base + i
                yield (
                    n,
                    base + i,
                    f"BC-{n}",
                    payment_reference_make(10_000_000 + n),
                    "ozb",
                    "tax",
                    "OZB",
                    "125.00",
                    "0.00",
                    "0.00",
                    "2023-02-28",
                    "2023-03-31",
                    "paid",
                    policy.pk,
                    ts,
                    0,
                    ts,
                    ts,
                )
            for i in range(open_claims):  # the hold: every tenth debtor still owes something
                n = claim_base + debtors + i
                yield (
                    n,
                    base + i * 10,
                    f"BC-{n}",
                    payment_reference_make(10_000_000 + n),
                    "ozb",
                    "tax",
                    "OZB",
                    "99.00",
                    "99.00",
                    "0.00",
                    "2025-02-28",
                    "2025-03-31",
                    "open",
                    policy.pk,
                    None,
                    0,
                    ts,
                    ts,
                )

        _copy(cursor, "dunning_claim", claim_columns, claims())
        _copy(
            cursor,
            "dunning_payment",
            [
                "source",
                "external_id",
                "amount",
                "currency",
                "paid_at",
                "reference_text",
                "payer_name",
                "payer_account",
                "claim_id",
                "match_status",
                "refund_amount",
                "received_at",
            ],
            (
                (
                    "camt053",
                    f"bench-{claim_base + i}",
                    "125.00",
                    "EUR",
                    ts,
                    "Aanslag OZB",
                    f"J. Jansen{i}",
                    "NL91ABNA0417164300",
                    claim_base + i,
                    "matched",
                    "0.00",
                    ts,
                )
                for i in range(debtors)
            ),
        )
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM dunning_message")
        message_base = cursor.fetchone()[0] + 1
        message_columns = [
            "id",
            "claim_id",
            "step_id",
            "channel",
            "tone",
            "language",
            "scheduled_for",
            "status",
            "cancel_reason",
            "attempts",
            "last_error",
            "provider_id",
            "cost",
            "recipient",
            "subject",
            "body",
            "created_at",
            "sent_at",
            "document",
            "print_batch",
        ]
        have = {f.column for f in Message._meta.concrete_fields}
        message_columns = [c for c in message_columns if c in have]
        body = "Beste heer Jansen, volgens onze administratie staat er nog een bedrag open. " * 6

        def messages():
            for i in range(debtors):
                for k in range(4):
                    values = {
                        "id": message_base + i * 4 + k,
                        "claim_id": claim_base + i,
                        "step_id": steps[k],  # one message per step: (claim, step) is unique
                        "channel": "email",
                        "tone": "friendly",
                        "language": "nl",
                        "scheduled_for": ts,
                        "status": "delivered",
                        "cancel_reason": "",
                        "attempts": 1,
                        "last_error": "",
                        "provider_id": f"esp-{i}-{k}",
                        "cost": "0.00",
                        "recipient": f"jan{i}@example.nl",
                        "subject": "Herinnering",
                        "body": body,
                        "created_at": ts,
                        "sent_at": ts,
                        "document": "",
                        "print_batch": "",
                    }
                    yield tuple(values[c] for c in message_columns)

        _copy(cursor, "dunning_message", message_columns, messages())
        _copy(
            cursor,
            "dunning_deliveryevent",
            ["message_id", "kind", "occurred_at", "provider_event_id", "description", "is_hard_bounce"],
            ((message_base + j, "delivered", ts, "", "250 OK", "f") for j in range(debtors * 4)),
        )
        for table in ("customers_debtor", "dunning_claim", "dunning_message"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        cursor.execute("ANALYZE")
    return {"debtors": debtors, "payments": debtors, "messages": debtors * 4, "delivery_events": debtors * 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="expired rows to generate (default 1,000,000)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://... (this bench measures PostgreSQL)")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from compliance.models import PurgeRun

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE customers_debtor, dunning_claim, dunning_payment, dunning_message, dunning_deliveryevent, "
            "customers_careflag, customers_channelpreference, dunning_pause, auditlog_logentry, "
            "compliance_purgerun, compliance_datasubjectrequest CASCADE"
        )
    now = datetime.now(UTC)
    started = time.perf_counter()
    generated = generate(args.rows, now)
    generate_seconds = time.perf_counter() - started
    # The purge runs as the operator would run it, in its own process, so its time and peak memory are
    # not mixed up with the generator's.
    connection.close()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "purge_expired", "--now", now.isoformat(), "--json"],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    run = PurgeRun.objects.latest("started_at")
    changed = {category: entry.get("affected", 0) for category, entry in run.counts.items()}
    held = {category: entry.get("held", 0) for category, entry in run.counts.items() if entry.get("held")}
    print(
        json.dumps(
            {
                "bench": "purge_expired",
                "database": connection.vendor,
                "rows_expired": sum(generated.values()),
                "rows_changed": sum(changed.values()),
                "seconds": round(seconds, 2),
                "generate_seconds": round(generate_seconds, 2),
                "peak_rss_mb": round(peak_mb, 1),
                "per_rule": changed,
                "held": held,
                "rule_seconds": {category: entry.get("seconds") for category, entry in run.counts.items()},
                "status": run.status,
            }
        )
    )


if __name__ == "__main__":
    main()
