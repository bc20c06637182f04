"""The timed scenarios. Each runs in its own process (`python -m bench.scenarios NAME`) so that its peak
RSS is its own, and prints one JSON line: the scenario, its figures, peak RSS and the load average.

All run "as of" the anchor moment stored by bench.generate (11:00 on a sending day), on the bench database.
"""

from __future__ import annotations

import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bench import common

PY = sys.executable


def _setup():
    common.django_setup()
    meta = common.guard_and_mark(scale=common.scale_name())
    if meta.get("generated") != "yes":
        sys.exit("the bench database is not generated: run `python -m bench.generate` (or bench.run) first")
    from datetime import date

    anchor = date.fromisoformat(meta["anchor"])
    return meta, anchor, common.anchor_now(anchor)


# --- plan ----------------------------------------------------------------------------------------------


def plan() -> dict:
    meta, _anchor, now = _setup()
    from auditlog.context import set_actor

    from config.actors import system_user
    from dunning.models import Claim, Message
    from dunning.services.planning import plan as plan_messages

    open_claims = Claim.objects.filter(status=Claim.Status.OPEN).count()
    before = Message.objects.count()
    with set_actor(system_user()), common.Timer() as timer:
        result = plan_messages(now=now)
    with common.Timer() as again:
        second = plan_messages(now=now)  # idempotent: a second run finds nothing new
    return common.emit(
        "plan",
        scale=meta["scale"],
        open_claims=open_claims,
        seconds=round(timer.seconds, 2),
        claims_per_s=round(open_claims / timer.seconds),
        **result.as_dict(),
        messages_written=Message.objects.count() - before,
        second_run_seconds=round(again.seconds, 2),
        second_run_planned=second.planned,
        peak_rss_mb=common.rss_mb(),
        target="< 60 s and < 500 MB at 1,000,000 open claims",
        load=common.load_average(),
    )


# --- dispatch ------------------------------------------------------------------------------------------


def _due_email_messages(*, count: int, now) -> int:
    """Plan `count` e-mail messages due now for not-yet-due claims (first step), as the planner would."""
    from campaigns.models import PolicyStep
    from dunning.channels.render import template_lookup
    from dunning.models import Claim, Message

    first_steps = {s.policy_id: s for s in PolicyStep.objects.filter(order=1)}
    rows = list(
        Claim.objects.filter(status=Claim.Status.OPEN, due_on__gt=now.date(), debtor__email__gt="")
        .exclude(messages__isnull=False)
        .order_by("pk")
        .values_list("pk", "policy_id", "debtor__language")[:count]
    )
    templates = {}
    batch = []
    made = 0
    for claim_id, policy_id, language in rows:
        step = first_steps[policy_id]
        key = (step.kind, step.default_tone, language)
        if key not in templates:
            templates[key] = template_lookup(step_kind=step.kind, tone=step.default_tone, channel="email",
                                             language=language)  # fmt: skip
        template = templates[key]
        batch.append(
            Message(
                claim_id=claim_id,
                step=step,
                channel="email",
                tone=step.default_tone,
                language=language,
                template=template,
                template_version=template.version if template else None,
                scheduled_for=now - timedelta(minutes=30),
                status=Message.Status.PLANNED,
            )
        )
        if len(batch) >= 5000:
            Message.objects.bulk_create(batch)
            made += len(batch)
            batch = []
    if batch:
        Message.objects.bulk_create(batch)
        made += len(batch)
    return made


def _dispatch_round(*, workers: int, count: int, now) -> dict:
    from dunning.models import Message

    # Anything else due (the plan scenario's output) waits until tomorrow, so each round sends exactly its own.
    Message.objects.filter(status=Message.Status.PLANNED, scheduled_for__lte=now).update(
        scheduled_for=now + timedelta(days=1)
    )
    first_new = (Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    made = _due_email_messages(count=count, now=now)
    mine = Message.objects.filter(pk__gte=first_new)
    from django.db import connection

    connection.close()  # the workers must not inherit an open connection
    env = dict(os.environ)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [PY, "-m", "bench.dispatch_worker", now.isoformat()],
            stdout=subprocess.PIPE,
            cwd=common.REPO,
            env=env,
            text=True,
        )
        for _ in range(workers)
    ]
    outputs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    seconds = time.perf_counter() - started
    sent = sum(o["sent"] for o in outputs)
    left = Message.objects.filter(status=Message.Status.PLANNED, scheduled_for__lte=now).count()
    outcomes = sum(o[k] for o in outputs for k in ("sent", "cancelled", "failed"))
    return {
        "workers": workers,
        "messages": made,
        "sent": sent,
        "not_sent": left,
        # Every message handled once: the workers' outcomes add up to the rows, and the SENT rows to the sends.
        "exactly_once": outcomes == made and mine.filter(status=Message.Status.SENT).count() == sent,
        "other_outcomes": {k: sum(o[k] for o in outputs) for k in ("cancelled", "retried", "failed")},
        "seconds": round(seconds, 2),
        "messages_per_s": round(sent / seconds, 1) if seconds else None,
        "worker_peak_rss_mb": max(o["peak_rss_mb"] for o in outputs),
    }


def dispatch() -> dict:
    meta, _anchor, now = _setup()
    count = int(os.environ.get("BENCH_DISPATCH_MESSAGES") or common.SCALES[meta["scale"]]["dispatch"])
    one = _dispatch_round(workers=1, count=count, now=now)
    two = _dispatch_round(workers=2, count=count, now=now)
    return common.emit(
        "dispatch",
        scale=meta["scale"],
        one_worker=one,
        two_workers=two,
        exactly_once=one["exactly_once"] and two["exactly_once"],
        peak_rss_mb=common.rss_mb(),
        children_peak_rss_mb=common.rss_mb(resource.RUSAGE_CHILDREN),
        target=">= 1,000 messages/s with 2 workers, rendering included",
        load=common.load_average(),
    )


# --- payments API --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer at {url}")


def payments() -> dict:
    meta, _anchor, _now = _setup()
    from dunning.models import Claim

    rate = float(os.environ.get("BENCH_PAYMENTS_RATE", "100"))
    seconds = float(os.environ.get("BENCH_PAYMENTS_SECONDS") or common.SCALES[meta["scale"]]["payments_seconds"])
    total = int(rate * seconds)
    # Random open claims spread over the table (not the first rows): ids sampled, then looked up.
    ids = list(Claim.objects.filter(status=Claim.Status.OPEN).values_list("pk", flat=True).order_by("?")[:total])
    claims = list(Claim.objects.filter(pk__in=ids).values_list("payment_reference", "open_amount"))
    rng = random.Random(3)
    work = []
    for i, (reference, open_amount) in enumerate(claims):
        settle = rng.random() < 0.3  # about a third settle their claim (and cancel its messages)
        amount = open_amount if settle else min(open_amount, Decimal("25.00"))
        work.append({"external_id": f"bench-{time.time_ns()}-{i}", "reference": reference, "amount": f"{amount:.2f}"})
    work_file = Path(f"/tmp/bench-payments-{os.getpid()}.json")
    work_file.write_text(json.dumps(work))
    from django.db import connection

    connection.close()
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=common.REPO,
        env=dict(os.environ),
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz")
        out = subprocess.run(
            [
                PY,
                "-m",
                "bench.payments_client",
                f"http://127.0.0.1:{port}/api/v1/payments/",
                str(work_file),
                str(rate),
            ],
            cwd=common.REPO,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        figures.pop("scenario", None)
    finally:
        server.terminate()
        server.wait(timeout=30)
        work_file.unlink(missing_ok=True)
    return common.emit(
        "payments",
        scale=meta["scale"],
        **figures,
        server="gunicorn, 2 sync workers, loopback",
        children_peak_rss_mb=common.rss_mb(resource.RUSAGE_CHILDREN),
        peak_rss_mb=common.rss_mb(),
        target="p99 < 50 ms at 100 requests/s",
        load=common.load_average(),
    )


# --- stop on payment -----------------------------------------------------------------------------------


def stop() -> dict:
    meta, anchor, now = _setup()
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import PolicyStep
    from dunning.models import Claim, Message
    from dunning.services.payments import payment_record

    samples = int(os.environ.get("BENCH_STOP_SAMPLES", "200"))
    steps = {}
    for step in PolicyStep.objects.filter(needs_approval=False).order_by("policy_id", "order"):
        steps.setdefault(step.policy_id, []).append(step)
    claims = list(
        Claim.objects.filter(status=Claim.Status.OPEN, due_on__gt=anchor)
        .exclude(messages__isnull=False)
        .order_by("-pk")[:samples]
    )
    # Each claim gets its pending ladder (the steps still to come), as the planner leaves it.
    Message.objects.bulk_create(
        [
            Message(
                claim=claim,
                step=step,
                channel="email",
                tone=step.default_tone,
                scheduled_for=now + timedelta(days=step.offset_days),
                status=Message.Status.PLANNED,
            )
            for claim in claims
            for step in steps[claim.policy_id]
        ]
    )
    timings, same_tx, cancelled_at_commit = [], 0, 0
    for i, claim in enumerate(claims):
        with common.Timer() as timer:
            result = payment_record(
                source="bench",
                external_id=f"stop-{time.time_ns()}-{i}",
                amount=claim.open_amount,
                paid_at=timezone.now(),
                reference_text=claim.payment_reference,
            )
        timings.append(timer.seconds * 1000)
        pending = Message.objects.filter(claim=claim, status__in=Message.PENDING_STATUSES).count()
        if result.claim_settled and pending == 0 and result.messages_cancelled > 0:
            cancelled_at_commit += 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Rows written by one transaction carry its id in xmin: the claim's settling update and the
                # cancellation share it. (Not the payment row: it is inserted in a savepoint, a subtransaction
                # with an xid of its own.)
                cursor.execute(
                    "SELECT (SELECT xmin::text FROM dunning_claim WHERE id = %s AND status = 'paid') = ALL("
                    "SELECT xmin::text FROM dunning_message WHERE claim_id = %s AND status = 'cancelled')",
                    [claim.pk, claim.pk],
                )
                same_tx += bool(cursor.fetchone()[0])
    return common.emit(
        "stop",
        scale=meta["scale"],
        payments=len(claims),
        payment_record_ms_p50=round(common.percentile(timings, 0.5), 2),
        payment_record_ms_p99=round(common.percentile(timings, 0.99), 2),
        payment_record_ms_max=round(max(timings), 2),
        cancelled_when_committed=cancelled_at_commit,
        same_transaction=same_tx if connection.vendor == "postgresql" else "n/a (SQLite)",
        commit_to_cancellation_ms=0 if cancelled_at_commit == len(claims) else None,
        peak_rss_mb=common.rss_mb(),
        load=common.load_average(),
    )


# --- purge ---------------------------------------------------------------------------------------------


def purge() -> dict:
    meta, _anchor, now = _setup()
    from compliance.purge import purge as purge_expired

    with common.Timer() as dry:
        planned = purge_expired(now=now, dry_run=True)
    with common.Timer() as timer:
        run = purge_expired(now=now)
    counts = {category: entry.get("affected", 0) for category, entry in run.counts.items()}
    errors = {category: entry["error"] for category, entry in run.counts.items() if "error" in entry}
    details = {category: entry.get("details", {}) for category, entry in run.counts.items()}
    rows = sum(sum(d.values()) for d in details.values())
    return common.emit(
        "purge",
        scale=meta["scale"],
        seconds=round(timer.seconds, 2),
        rows_changed=rows,
        rows_per_s=round(rows / timer.seconds) if timer.seconds else None,
        affected=counts,
        details=details,
        errors=errors,
        dry_run_seconds=round(dry.seconds, 2),
        dry_run_affected=sum(e.get("affected", 0) for e in planned.counts.values()),
        status=run.status,
        peak_rss_mb=common.rss_mb(),
        target="< 120 s for 1,000,000 rows",
        load=common.load_average(),
    )


# --- admin ---------------------------------------------------------------------------------------------


def admin() -> dict:
    meta, _anchor, _now = _setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dunning.models import Claim, Message, Payment

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-admin").first() or user_model.objects.create_superuser(
        username="bench-admin", email="bench@example.nl", password=None
    )
    client = Client()
    client.force_login(user)
    sample = Claim.objects.filter(status=Claim.Status.OPEN).order_by("pk")[1000:1001].get()
    surname = sample.debtor.surname
    busy = (
        Message.objects.filter(claim__status=Claim.Status.OPEN).values("claim_id").order_by("-claim_id").first()
        or {"claim_id": sample.pk}
    )["claim_id"]
    paid = Payment.objects.filter(claim__isnull=False).values_list("claim_id", flat=True).first() or sample.pk
    pages = {
        "changelist": "/admin/dunning/claim/",
        "changelist_filtered": "/admin/dunning/claim/?status__exact=open&kind__exact=ozb&due=overdue_15",
        "changelist_search_name": f"/admin/dunning/claim/?q={surname}&status__exact=open",
        "changelist_search_reference": f"/admin/dunning/claim/?q={sample.payment_reference}",
        "claim_page_open": f"/admin/dunning/claim/{busy}/change/",
        "claim_page_paid": f"/admin/dunning/claim/{paid}/change/",
    }
    repeat = int(os.environ.get("BENCH_ADMIN_REPEAT", "5"))
    figures = {}
    for name, url in pages.items():
        response = client.get(url)  # warm-up (template loading, caches)
        assert response.status_code == 200, (url, response.status_code)
        times = []
        for _ in range(repeat):
            with common.Timer() as timer:
                response = client.get(url)
            times.append(timer.seconds * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        sql = [q["sql"] for q in captured.captured_queries]
        full_counts = [s for s in sql if "COUNT(" in s.upper() and '"dunning_claim"' in s and "LIMIT" not in s.upper()]
        slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
        figures[name] = {
            "ms_median": round(common.percentile(times, 0.5), 1),
            "ms_max": round(max(times), 1),
            "queries": len(sql),
            "full_counts_of_claims": len(full_counts),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
        }
    return common.emit(
        "admin",
        scale=meta["scale"],
        claims=Claim.objects.count(),
        pages=figures,
        worst_ms=max(f["ms_median"] for f in figures.values()),
        peak_rss_mb=common.rss_mb(),
        target="< 300 ms server time at full size",
        load=common.load_average(),
    )


SCENARIOS = {"plan": plan, "dispatch": dispatch, "stop": stop, "payments": payments, "admin": admin, "purge": purge}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: python -m bench.scenarios {{{','.join(SCENARIOS)}}}")
    SCENARIOS[sys.argv[1]]()
