"""Pauses stop reminders at once and resume the schedule without a burst of overdue steps."""

from datetime import date, timedelta

import pytest

from campaigns.models import Regime, StepKind
from dunning.models import EscalationProposal, Message, Pause
from dunning.selectors.legal import claim_is_paused, next_open_step, next_step_due_on
from dunning.services.pauses import RESUME_GRACE_DAYS, PauseError, pause_end, pause_start, pauses_resume_ended
from tests.dunning.legal_helpers import at, claim_with_policy, escalation_awaiting, sent_message
from tests.factories import make_claim

pytestmark = pytest.mark.django_db


def planned(claim, kind, when):
    return Message.objects.create(
        claim=claim, step=claim.policy.steps.get(kind=kind), channel="email", tone="neutral", scheduled_for=when
    )


def test_a_pause_cancels_pending_messages_and_withdraws_proposals(clerk):
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    sent = sent_message(claim, StepKind.REMINDER, sent_at=at(date(2026, 1, 4)))
    upcoming = planned(claim, StepKind.FORMAL_REMINDER, at(date(2026, 1, 16)))
    proposal, held = escalation_awaiting(claim)
    result = pause_start(
        claim=claim, reason=Pause.Reason.OBJECTION, note="Bezwaar ontvangen", actor=clerk, now=at(date(2026, 1, 10))
    )
    assert (result.messages_cancelled, result.proposals_withdrawn) == (2, 1)
    for message in (upcoming, held):
        message.refresh_from_db()
        assert message.status == Message.Status.CANCELLED
        assert message.cancel_reason == "paused"
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT
    proposal.refresh_from_db()
    assert proposal.status == EscalationProposal.Status.WITHDRAWN
    assert result.pause.created_by == clerk
    assert claim_is_paused(claim=claim, moment=at(date(2026, 1, 11)))


def test_debt_assistance_pauses_every_claim_of_the_debtor(clerk):
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    other = make_claim(claim.debtor, policy=claim.policy, issued_on=date(2026, 1, 1), due_on=date(2026, 1, 20))
    message = planned(other, StepKind.REMINDER, at(date(2026, 1, 23)))
    result = pause_start(claim=claim, reason=Pause.Reason.DEBT_ASSISTANCE, actor=clerk, now=at(date(2026, 1, 10)))
    assert result.pause.debtor == claim.debtor and result.pause.claim is None
    message.refresh_from_db()
    assert message.cancel_reason == "paused"
    assert claim_is_paused(claim=other, moment=at(date(2026, 1, 11)))


def test_a_pause_needs_a_claim_or_a_debtor():
    with pytest.raises(PauseError):
        pause_start(reason=Pause.Reason.OTHER, now=at(date(2026, 1, 10)))


def test_ending_a_pause_resumes_with_the_next_step_a_few_days_later_not_a_burst(clerk):
    # Steps at due +3, +14, +28, +42. The reminder went out; the pause lasted from 10 January to 15 March,
    # past the dates of every later step.
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    sent_message(claim, StepKind.REMINDER, sent_at=at(date(2026, 1, 4)))
    pause = pause_start(claim=claim, reason=Pause.Reason.OBJECTION, actor=clerk, now=at(date(2026, 1, 10))).pause
    pause_end(pause=pause, ends_at=at(date(2026, 3, 15)), actor=clerk, now=at(date(2026, 3, 15)))
    claim.refresh_from_db()

    step2, step3, step4 = (claim.policy.steps.get(order=n) for n in (2, 3, 4))
    assert next_open_step(claim) == step2
    resume = date(2026, 3, 15) + timedelta(days=RESUME_GRACE_DAYS)
    assert next_step_due_on(claim, step2) == resume
    # The later steps keep their spacing: one step at a time.
    assert next_step_due_on(claim, step3) == resume + timedelta(days=14)
    assert next_step_due_on(claim, step4) == resume + timedelta(days=28)
    due_on_resume = [s for s in (step2, step3, step4) if next_step_due_on(claim, s) <= resume]
    assert due_on_resume == [step2]


def test_a_short_pause_that_ends_before_the_next_step_changes_nothing(clerk):
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    sent_message(claim, StepKind.REMINDER, sent_at=at(date(2026, 1, 4)))
    pause = pause_start(claim=claim, reason=Pause.Reason.OTHER, actor=clerk, now=at(date(2026, 1, 5))).pause
    pause_end(pause=pause, ends_at=at(date(2026, 1, 6)), actor=clerk, now=at(date(2026, 1, 6)))
    claim.refresh_from_db()
    assert claim.schedule_shift_days == 0  # step 2 (due 15 January) is more than 5 days away


def test_a_pause_with_an_end_date_resumes_by_the_daily_job_once(clerk):
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    pause_start(
        claim=claim,
        reason=Pause.Reason.WAIVER_REQUEST,
        ends_at=at(date(2026, 2, 20)),
        actor=clerk,
        now=at(date(2026, 1, 2)),
    )
    assert pauses_resume_ended(now=at(date(2026, 2, 19))) == 0
    assert pauses_resume_ended(now=at(date(2026, 2, 21))) == 1
    assert pauses_resume_ended(now=at(date(2026, 2, 22))) == 0
    claim.refresh_from_db()
    first = claim.policy.steps.get(order=1)
    assert next_step_due_on(claim, first) == date(2026, 2, 20) + timedelta(days=RESUME_GRACE_DAYS)
    assert not claim_is_paused(claim=claim, moment=at(date(2026, 2, 21)))


def test_a_debtor_pause_ending_shifts_every_open_claim(clerk):
    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    other = make_claim(claim.debtor, policy=claim.policy, issued_on=date(2026, 1, 1), due_on=date(2026, 1, 10))
    pause = pause_start(debtor=claim.debtor, reason=Pause.Reason.DECEASED, actor=clerk, now=at(date(2026, 1, 2))).pause
    pause_end(pause=pause, ends_at=at(date(2026, 4, 1)), actor=clerk, now=at(date(2026, 4, 1)))
    for c in (claim, other):
        c.refresh_from_db()
        assert next_step_due_on(c, c.policy.steps.get(order=1)) == date(2026, 4, 1) + timedelta(days=RESUME_GRACE_DAYS)


def test_the_housekeeping_command_resumes_an_ended_pause_as_of_now(clerk):
    import io

    from django.core.management import call_command

    claim = claim_with_policy(regime=Regime.TAX, due_on=date(2026, 1, 1))
    pause_start(
        claim=claim, reason=Pause.Reason.OBJECTION, ends_at=at(date(2026, 2, 20)), actor=clerk, now=at(date(2026, 1, 2))
    )
    out = io.StringIO()
    call_command("legal_housekeeping", "--now", "2026-02-19T09:00:00+01:00", stdout=out)
    assert "pauses_resumed=0" in out.getvalue()
    call_command("legal_housekeeping", "--now", "2026-02-21T09:00:00+01:00", stdout=out)
    assert "pauses_resumed=1" in out.getvalue()
    assert Pause.objects.get().resumed_at is not None
