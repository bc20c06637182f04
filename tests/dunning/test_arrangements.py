"""Payment arrangements: instalments paused dunning; two misses ask a person; confirmed, dunning resumes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from campaigns.models import Regime, StepKind
from dunning.models import Instalment, InstalmentReminder, Message, Payment, PaymentArrangement
from dunning.selectors.legal import claim_is_paused, next_step_due_on
from dunning.services.arrangements import (
    ArrangementError,
    arrangement_cancel_confirm,
    arrangement_create,
    arrangement_keep,
    arrangements_refresh,
    instalment_amounts,
)
from dunning.services.pauses import RESUME_GRACE_DAYS
from tests.dunning.legal_helpers import at, claim_with_policy, sent_message

pytestmark = pytest.mark.django_db

AGREED = at(date(2026, 2, 1))


def arrangement_for(clerk, principal="300.00"):
    claim = claim_with_policy(regime=Regime.TAX, principal=principal, due_on=date(2026, 1, 1))
    sent_message(claim, StepKind.REMINDER, sent_at=at(date(2026, 1, 4)))
    upcoming = Message.objects.create(
        claim=claim,
        step=claim.policy.steps.get(kind=StepKind.FORMAL_REMINDER),
        channel="email",
        tone="neutral",
        scheduled_for=at(date(2026, 2, 3)),
    )
    arrangement = arrangement_create(claims=[claim], count=3, first_due_on=date(2026, 2, 15), actor=clerk, now=AGREED)
    return claim, arrangement, upcoming


def pay(claim, amount, day, n=[0]):  # noqa: B006 - a counter for unique external ids
    n[0] += 1
    Payment.objects.create(
        source="api",
        external_id=f"arr-{n[0]}",
        amount=Decimal(amount),
        paid_at=at(day),
        claim=claim,
        match_status=Payment.MatchStatus.MATCHED,
    )


def test_instalments_split_the_total_in_cents():
    assert instalment_amounts(Decimal("100.00"), 3) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_an_arrangement_pauses_dunning_and_plans_monthly_instalments(clerk):
    claim, arrangement, upcoming = arrangement_for(clerk)
    assert [i.due_on for i in arrangement.instalments.all()] == [
        date(2026, 2, 15),
        date(2026, 3, 15),
        date(2026, 4, 15),
    ]
    assert arrangement.total == Decimal("300.00")
    upcoming.refresh_from_db()
    assert upcoming.status == Message.Status.CANCELLED and upcoming.cancel_reason == "paused"
    assert claim_is_paused(claim=claim, moment=at(date(2026, 2, 2)))
    with pytest.raises(ArrangementError, match="already has an open arrangement"):
        arrangement_create(claims=[claim], count=2, first_due_on=date(2026, 3, 1), actor=clerk, now=AGREED)


def test_payments_are_applied_to_instalments_in_due_order(clerk):
    claim, arrangement, _ = arrangement_for(clerk)
    pay(claim, "150.00", date(2026, 2, 14))
    arrangements_refresh(now=at(date(2026, 2, 20)))
    first, second, third = arrangement.instalments.order_by("number")
    assert (first.status, first.paid_amount) == (Instalment.Status.PAID, Decimal("100.00"))
    assert (second.status, second.paid_amount) == (Instalment.Status.OPEN, Decimal("50.00"))
    assert third.paid_amount == 0


def test_a_missed_instalment_gets_one_friendly_reminder(clerk):
    _claim, arrangement, _ = arrangement_for(clerk)
    result = arrangements_refresh(now=at(date(2026, 2, 18)))  # 15 Feb + 3 grace days: not yet missed
    assert result.missed == 0
    result = arrangements_refresh(now=at(date(2026, 2, 19)))
    assert (result.missed, result.reminders) == (1, 1)
    reminder = InstalmentReminder.objects.get()
    assert reminder.status == InstalmentReminder.Status.SENT
    assert "termijn 1" in mail.outbox[0].subject
    assert "100,00 euro" in mail.outbox[0].body
    arrangements_refresh(now=at(date(2026, 2, 21)))
    assert len(mail.outbox) == 1  # one reminder per missed instalment
    arrangement.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.ACTIVE


def test_two_misses_wait_for_a_person_then_dunning_resumes_without_a_burst(clerk):
    claim, arrangement, _ = arrangement_for(clerk)
    arrangements_refresh(now=at(date(2026, 2, 20)))
    arrangements_refresh(now=at(date(2026, 3, 20)))
    arrangement.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.PENDING_CANCELLATION
    assert len(mail.outbox) == 2
    # Still paused until a person confirms.
    assert claim_is_paused(claim=claim, moment=at(date(2026, 3, 25)))

    with pytest.raises(ArrangementError):
        arrangement_cancel_confirm(arrangement=arrangement, actor=None, now=at(date(2026, 3, 25)))
    arrangement_cancel_confirm(arrangement=arrangement, actor=clerk, now=at(date(2026, 3, 25)))
    arrangement.refresh_from_db()
    claim.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.CANCELLED
    assert arrangement.closed_by == clerk
    assert not claim_is_paused(claim=claim, moment=at(date(2026, 3, 26)))
    # The formal reminder (cancelled by the pause) is behind us; the next step comes a few days later.
    final = claim.policy.steps.get(kind=StepKind.FINAL_NOTICE)
    assert next_step_due_on(claim, final) >= date(2026, 3, 25) + timedelta(days=RESUME_GRACE_DAYS)


def test_a_person_can_keep_the_arrangement_with_a_new_date_for_the_missed_instalments(clerk):
    _claim, arrangement, _ = arrangement_for(clerk)
    arrangements_refresh(now=at(date(2026, 2, 20)))
    arrangements_refresh(now=at(date(2026, 3, 20)))
    arrangement_keep(arrangement=arrangement, actor=clerk, note="Debtor called", now=at(date(2026, 3, 21)))
    arrangement.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.ACTIVE
    assert set(arrangement.instalments.filter(number__lte=2).values_list("due_on", flat=True)) == {date(2026, 4, 4)}
    arrangements_refresh(now=at(date(2026, 3, 22)))
    arrangement.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.ACTIVE


def test_paying_everything_completes_the_arrangement_and_ends_the_pause(clerk):
    claim, arrangement, _ = arrangement_for(clerk)
    pay(claim, "300.00", date(2026, 2, 10))
    arrangements_refresh(now=at(date(2026, 2, 11)))
    arrangement.refresh_from_db()
    assert arrangement.status == PaymentArrangement.Status.COMPLETED
    assert not claim_is_paused(claim=claim, moment=at(date(2026, 2, 12)))
