"""Care first and pauses end-to-end with the engine's planner (dunning.services.planning.plan)."""

from datetime import date, timedelta

import pytest

from campaigns.models import Regime, StepKind, Tone
from dunning.models import EscalationProposal, Message, Pause
from dunning.services.approvals import proposal_approve
from dunning.services.costs import legal_notice_record
from dunning.services.pauses import RESUME_GRACE_DAYS, pause_end, pause_start
from dunning.services.planning import plan
from dunning.tasks_legal import legal_housekeeping
from tests.dunning.legal_helpers import at, claim_with_policy
from tests.factories import make_care_flag, make_segment

pytestmark = pytest.mark.django_db

DUE = date(2026, 1, 1)


@pytest.fixture(autouse=True)
def default_segment(db):
    make_segment(name="Overig", is_default=True, priority=1000)


def run_plan_through(claim, until: date, *, mark_sent=True):
    """Plan every other day; what the planner writes is marked sent (as the dispatcher would)."""
    day = DUE
    while day <= until:
        plan(now=at(day, 8))
        if mark_sent:
            for message in Message.objects.filter(claim=claim, status=Message.Status.PLANNED):
                message.status = Message.Status.SENT
                message.sent_at = at(day, 9)
                message.save()
                legal_notice_record(message=message)
        day += timedelta(days=2)


def messages_of(claim):
    return list(Message.objects.filter(claim=claim).select_related("step").order_by("step__order"))


def test_a_care_flagged_debtor_gets_only_the_empathetic_tone_and_no_automatic_escalation(team_lead):
    claim = claim_with_policy(regime=Regime.TAX, principal="300.00", due_on=DUE)
    make_care_flag(claim.debtor, starts_on=date(2025, 12, 1))
    run_plan_through(claim, DUE + timedelta(days=45))

    sent = messages_of(claim)
    # Being in arrears never silences them: reminders keep coming, in the empathetic tone only.
    assert [m.step.kind for m in sent] == [
        StepKind.REMINDER,
        StepKind.FORMAL_REMINDER,
        StepKind.FINAL_NOTICE,
        StepKind.ESCALATION,
    ]
    assert {m.tone for m in sent} == {Tone.EMPATHETIC}
    escalation = sent[-1]
    assert escalation.status == Message.Status.AWAITING_APPROVAL
    proposal = EscalationProposal.objects.get(claim=claim, step=escalation.step)
    assert proposal.needs_second_approval

    decision = proposal_approve(proposal=proposal, actor=team_lead, now=at(DUE + timedelta(days=45)))
    assert not decision.final
    escalation.refresh_from_db()
    assert escalation.status == Message.Status.AWAITING_APPROVAL  # one person is not enough


def test_an_escalation_never_leaves_without_approval(team_lead):
    claim = claim_with_policy(regime=Regime.TAX, principal="300.00", due_on=DUE)
    run_plan_through(claim, DUE + timedelta(days=60), mark_sent=True)
    escalation = Message.objects.get(claim=claim, step__kind=StepKind.ESCALATION)
    assert escalation.status == Message.Status.AWAITING_APPROVAL
    assert escalation.tone != Tone.EMPATHETIC
    proposal = EscalationProposal.objects.get(claim=claim)
    assert not proposal.needs_second_approval
    proposal_approve(proposal=proposal, actor=team_lead, now=at(DUE + timedelta(days=60)))
    escalation.refresh_from_db()
    assert escalation.status == Message.Status.PLANNED


def test_after_a_pause_the_planner_resumes_one_step_at_a_time(clerk):
    claim = claim_with_policy(regime=Regime.TAX, principal="300.00", due_on=DUE)
    run_plan_through(claim, DUE + timedelta(days=5))  # the reminder (+3) went out
    pause = pause_start(claim=claim, reason=Pause.Reason.OBJECTION, actor=clerk, now=at(DUE + timedelta(days=6))).pause
    run_plan_through(claim, DUE + timedelta(days=70))  # every other step date passes during the pause
    assert [m.step.kind for m in messages_of(claim)] == [StepKind.REMINDER]

    ends = DUE + timedelta(days=70)
    pause_end(pause=pause, ends_at=at(ends, 8), actor=clerk, now=at(ends, 8))
    plan(now=at(ends + timedelta(days=RESUME_GRACE_DAYS - 1), 12))
    assert len(messages_of(claim)) == 1  # nothing in the grace days
    plan(now=at(ends + timedelta(days=RESUME_GRACE_DAYS), 12))
    after = messages_of(claim)
    assert [m.step.kind for m in after] == [StepKind.REMINDER, StepKind.FORMAL_REMINDER]  # one step, no burst


def test_the_hourly_housekeeping_runs_every_legal_job():
    counts = legal_housekeeping(now=at(DUE))
    assert set(counts) >= {"pauses_resumed", "notices_recorded", "cost_proposals", "instalment_reminders"}
