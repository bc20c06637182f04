"""Does the planner's memory stay flat as the number of claims grows?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dunning_bench_plan \
        .venv/bin/python -m bench.plan_memory --claims 50000

1. Creates the database when missing (its name must contain "bench": this script deletes data), migrates it,
   and removes what an earlier run generated.
2. Generates N open claims quickly (bulk inserts; two claims per debtor so bundling is exercised), all due
   for the first step of one policy, plus segments and templates.
3. Runs `plan(now=...)` in a fresh Python process, so its peak RSS is the planner's, not the generator's,
   and prints one JSON line: claims, messages planned, seconds, peak RSS in MB.

Run it at two sizes: with keyset pages of 1000 claims, peak RSS should be about the same at 10k and 100k.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 4, 2, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # a Thursday, inside every window
DUE_ON = date(2026, 3, 30)
PREFIX = "PLANBENCH-"


def _setup() -> None:
    url = os.environ.get("DATABASE_URL", "")
    name = urlparse(url).path.lstrip("/")
    if not url.startswith("postgres") or "bench" not in name:
        sys.exit("Set DATABASE_URL=postgres://.../<a database whose name contains 'bench'>: this script deletes data.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _database_create() -> None:
    import psycopg

    parsed = urlparse(os.environ["DATABASE_URL"])
    name = parsed.path.lstrip("/")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def generate(claims: int) -> None:
    from django.core.management import call_command

    from campaigns.models import DunningPolicy, MessageTemplate, PolicyStep, Segment, StepKind, Tone
    from customers.models import Channel, Debtor
    from dunning.models import Claim, ClaimKind, EscalationProposal, Message
    from dunning.references import payment_reference_make

    call_command("migrate", verbosity=0)
    EscalationProposal.objects.filter(claim__source_reference__startswith=PREFIX).delete()
    Message.objects.filter(claim__source_reference__startswith=PREFIX).delete()
    Claim.objects.filter(source_reference__startswith=PREFIX).delete()
    Debtor.objects.filter(source_reference__startswith=PREFIX).delete()

    policy, _ = DunningPolicy.objects.get_or_create(name="Plan bench", defaults={"regime": "tax"})
    PolicyStep.objects.get_or_create(
        policy=policy,
        order=1,
        defaults={"offset_days": 3, "kind": StepKind.REMINDER, "channels": ["email", "sms", "letter"]},
    )
    if not Segment.objects.filter(is_default=True).exists():
        Segment.objects.create(name="Bench default", purpose="bench", is_default=True, priority=1000)
    Segment.objects.get_or_create(
        name="Bench on time",
        defaults={
            "purpose": "bench",
            "priority": 20,
            "rules": [{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.9}],
        },
    )
    for channel in Channel.values:
        for tone in Tone.values:
            if not MessageTemplate.objects.filter(
                step_kind=StepKind.REMINDER, tone=tone, channel=channel, language="nl", is_active=True
            ).exists():
                MessageTemplate.objects.create(
                    step_kind=StepKind.REMINDER,
                    tone=tone,
                    channel=channel,
                    language="nl",
                    subject="Herinnering {{ claim_reference }}",
                    body="Beste {{ salutation }}, nog open: {{ open_amount }}.",
                )
    chunk = 5000
    debtors_needed = (claims + 1) // 2
    for start in range(0, debtors_needed, chunk):
        Debtor.objects.bulk_create(
            [
                Debtor(
                    source_reference=f"{PREFIX}{n:08d}",
                    given_name="Bench",
                    surname=f"Debtor {n}",
                    street="Dorpsstraat",
                    house_number=str(n % 300 + 1),
                    postal_code="1234 AB",
                    city="Voorbeeld",
                    email=f"bench{n}@example.nl" if n % 3 else "",
                    phone=f"+3161{n % 10_000_000:07d}" if n % 2 else "",
                )
                for n in range(start, min(start + chunk, debtors_needed))
            ]
        )
    debtor_ids = list(
        Debtor.objects.filter(source_reference__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    base = 900_000_000
    for start in range(0, claims, chunk):
        Claim.objects.bulk_create(
            [
                Claim(
                    debtor_id=debtor_ids[n // 2],
                    source_reference=f"{PREFIX}{n:08d}",
                    payment_reference=payment_reference_make(base + n),
                    kind=ClaimKind.OZB,
                    regime="tax",
                    principal=Decimal("125.00"),
                    open_amount=Decimal("125.00"),
                    issued_on=DUE_ON - timedelta(days=30),
                    due_on=DUE_ON,
                    policy=policy,
                )
                for n in range(start, min(start + chunk, claims))
            ]
        )
    # Only this run's claims are due: park every other open claim of the policy far in the future.
    Claim.objects.filter(policy=policy).exclude(source_reference__startswith=PREFIX).update(status="cancelled")
    from django.db import connection

    with connection.cursor() as cursor:  # what autovacuum does after a bulk load: fresh planner statistics
        cursor.execute("ANALYZE")


def run_plan() -> dict:
    from dunning.services.planning import plan

    started = time.perf_counter()
    result = plan(now=NOW)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {**result.as_dict(), "seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--plan-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plan_only:
        _setup()
        print(json.dumps(run_plan()))
        return
    if urlparse(os.environ.get("DATABASE_URL", "")).scheme.startswith("postgres"):
        _database_create()
    _setup()
    started = time.perf_counter()
    generate(args.claims)
    generated_in = time.perf_counter() - started
    child = subprocess.run(  # a fresh process: its peak RSS is the planner's alone
        [sys.executable, "-m", "bench.plan_memory", "--plan-only"],
        cwd=REPO,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps({"claims": args.claims, "generate_seconds": round(generated_in, 1), **figures}))


if __name__ == "__main__":
    main()
