"""The product's promise under real concurrency (PostgreSQL, real commits, several connections).

1. Identical payment requests arriving at the same instant leave one payment and one effect.
2. The proof: the dispatcher sends a few thousand due reminders while payments for a random half of
   the claims arrive through the API. Afterwards no reminder left for a claim after its settling payment
   was applied, and every reminder for an unpaid claim left exactly once.

How the order is observed: the e-mail backend below stamps the wall-clock time of every hand-over to
the provider, which the dispatcher does while holding the claim's row lock. `payment_record` takes
`claim.settled_at` right after it acquired the same lock, i.e. before it commits. A reminder sent
after the payment committed would therefore carry a send time later than `settled_at`; with correct
locking every send for a paid claim happened before `settled_at`.
"""

import json
import os
import queue
import random
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from customers.models import Debtor
from dunning.api import signature_for
from dunning.models import Claim, Message, Payment
from dunning.references import payment_reference_make
from dunning.services.dispatch import dispatch
from dunning.services.planning import plan
from tests.campaigns.personas import DUE_ON, REMINDER_DAY, build_world
from tests.dunning.payment_helpers import URL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Claims per seed. Small by default so CI stays fast; PAYMENTS_PROOF_CLAIMS=2000 runs the full proof.
PROOF_CLAIMS = int(os.environ.get("PAYMENTS_PROOF_CLAIMS", "120"))
SEND_LOG: list[tuple[str, object]] = []  # (recipient, wall-clock time of the hand-over)
_SEND_LOCK = threading.Lock()


class RecordingEmailBackend(AnymailTestBackend):
    def send_messages(self, email_messages):
        stamp = timezone.now()
        with _SEND_LOCK:
            for message in email_messages:
                for to in message.to:
                    SEND_LOG.append((to, stamp))
        return super().send_messages(email_messages)


@pytest.fixture(autouse=True)
def recording_backend(settings):
    settings.EMAIL_BACKEND = "tests.dunning.test_stop_on_payment.RecordingEmailBackend"
    SEND_LOG.clear()
    mail.outbox = []
    yield
    SEND_LOG.clear()


def _signed_post(client: Client, data: dict):
    body = json.dumps(data).encode()
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature_for(body, settings.PAYMENTS_WEBHOOK_SECRET),
    )


def _run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as error:  # pragma: no cover - reported by the assertion
                errors.append(error)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _claims(world, count: int, *, seed: int) -> list[Claim]:
    """`count` debtors with one open claim each, bulk-created (the planner then writes the reminders)."""
    debtors = Debtor.objects.bulk_create(
        Debtor(
            source_reference=f"PROOF-{seed}-{i:06d}",
            given_name="Test",
            surname=f"Betaler{i}",
            email=f"proof{seed}-{i}@example.nl",
            street="Dorpsstraat",
            house_number=str(i),
            postal_code="1234 AB",
            city="Voorbeeld",
        )
        for i in range(count)
    )
    return Claim.objects.bulk_create(
        Claim(
            debtor=debtor,
            source_reference=f"PROOF-CLM-{seed}-{i:06d}",
            payment_reference=payment_reference_make(900_000_000 + seed * 100_000 + i),
            kind="ozb",
            regime="tax",
            principal=Decimal("125.00"),
            open_amount=Decimal("125.00"),
            issued_on=DUE_ON - timedelta(days=30),
            due_on=DUE_ON,
            policy=world.policy,
        )
        for i, debtor in enumerate(debtors)
    )


def test_identical_requests_at_the_same_instant_record_one_payment_and_one_effect():
    world = build_world()
    (claim,) = _claims(world, 1, seed=99)
    data = {
        "external_id": "same-instant-1",
        "reference": claim.payment_reference,
        "amount": "25.00",
        "currency": "EUR",
        "paid_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "source": "bank-x",
    }
    barrier = threading.Barrier(8)
    responses = []

    def post():
        client = Client()
        barrier.wait()
        response = _signed_post(client, data)
        responses.append((response.status_code, response.json()))

    assert not _run_threads([post] * 8)

    statuses = sorted(status for status, _ in responses)
    assert statuses == [200] * 7 + [201]
    assert len({json.dumps(body, sort_keys=True) for _, body in responses}) == 1  # the same body every time
    assert Payment.objects.count() == 1
    claim.refresh_from_db()
    assert claim.open_amount == Decimal("100.00")


@pytest.mark.parametrize("seed", [11, 23, 37])
def test_no_reminder_leaves_after_the_payment_that_settled_its_claim(seed):
    rng = random.Random(seed)
    world = build_world()
    claims = _claims(world, PROOF_CLAIMS, seed=seed)
    plan(now=REMINDER_DAY)
    assert Message.objects.filter(status=Message.Status.PLANNED).count() == len(claims)
    paid = set(rng.sample([c.pk for c in claims], len(claims) // 2))
    by_pk = {c.pk: c for c in claims}
    work: queue.Queue = queue.Queue()
    order = list(paid)
    rng.shuffle(order)
    for pk in order:
        work.put(pk)
    statuses: list[int] = []
    paid_at = (timezone.now() - timedelta(minutes=1)).isoformat()

    def pay():
        client = Client()
        while True:
            try:
                pk = work.get_nowait()
            except queue.Empty:
                return
            claim = by_pk[pk]
            response = _signed_post(
                client,
                {
                    "external_id": f"proof-{seed}-{pk}",
                    "reference": claim.payment_reference,
                    "amount": "125.00",
                    "currency": "EUR",
                    "paid_at": paid_at,
                    "source": "proof",
                },
            )
            statuses.append(response.status_code)
            if rng.random() < 0.05:
                time.sleep(0.001)  # vary the interleaving a little

    def send():
        while dispatch(now=REMINDER_DAY, batch_size=40, max_batches=1).claimed:
            pass

    errors = _run_threads([send, send, pay, pay, pay, pay])
    assert not errors, errors

    # Every payment was recorded and matched once.
    assert statuses.count(201) == len(paid) and len(statuses) == len(paid)
    # Interleaving really happened: some paid claims got their reminder first, some had it cancelled.
    sent_for = {to for to, _ in SEND_LOG}
    emails = {
        c.pk: c.debtor.email for c in Claim.objects.select_related("debtor").filter(pk__in=[c.pk for c in claims])
    }
    settled_at = dict(Claim.objects.filter(pk__in=paid).values_list("pk", "settled_at"))
    assert all(settled_at[pk] is not None for pk in paid)

    # 1. No reminder left after the settling payment: every send for a paid claim precedes settled_at.
    claim_of = {email: pk for pk, email in emails.items()}
    late = [
        (claim_of[to], stamp, settled_at[claim_of[to]])
        for to, stamp in SEND_LOG
        if claim_of[to] in paid and stamp >= settled_at[claim_of[to]]
    ]
    assert late == []
    for message in Message.objects.filter(claim_id__in=paid):
        assert message.status in (Message.Status.SENT, Message.Status.CANCELLED)
        if message.status == Message.Status.CANCELLED:
            assert message.cancel_reason == "paid"
            assert emails[message.claim_id] not in sent_for

    # 2. Every reminder for an unpaid claim left exactly once.
    unpaid = [pk for pk in emails if pk not in paid]
    sends = [to for to, _ in SEND_LOG]
    assert sorted(sends.count(emails[pk]) for pk in unpaid) == [1] * len(unpaid)
    assert Message.objects.filter(claim_id__in=unpaid, status=Message.Status.SENT).count() == len(unpaid)
    # No recipient got two e-mails at all.
    assert len(sends) == len(set(sends))

    # The race was real in this run (otherwise the proof would prove little).
    paid_and_sent = sum(1 for pk in paid if emails[pk] in sent_for)
    assert 0 < paid_and_sent < len(paid)
