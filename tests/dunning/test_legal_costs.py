"""Costs are charged only after the term has passed, only with an approval, on what is still open."""

from datetime import date
from decimal import Decimal

import pytest

from campaigns.models import Regime, StepKind
from dunning.models import ClaimCost, EscalationProposal, LegalNotice
from dunning.services.approvals import ApprovalError, proposal_approve
from dunning.services.costs import (
    CostsNotAllowed,
    claim_costs_add,
    cost_proposals_create,
    legal_notice_record,
    legal_notices_record_sent,
)
from tests.dunning.legal_helpers import at, claim_with_policy, sent_message

pytestmark = pytest.mark.django_db

# A letter posted Friday 6 March 2026 counts as received Monday 9 March; the term ends Monday 23 March.
POSTED = at(date(2026, 3, 6))
LAST_DAY = at(date(2026, 3, 23), 20)
DAY_AFTER = at(date(2026, 3, 24), 9)


def wik_claim(principal="3000.00"):
    claim = claim_with_policy(regime=Regime.PRIVATE, principal=principal, due_on=date(2026, 2, 1))
    message = sent_message(claim, StepKind.FORMAL_REMINDER, sent_at=POSTED)
    notice = legal_notice_record(message=message)
    return claim, notice


def approved(claim, notice):
    return EscalationProposal.objects.create(
        claim=claim, step=notice.message.step, action="add_costs:wik", status=EscalationProposal.Status.APPROVED
    )


def test_the_notice_records_when_the_letter_counts_as_received_and_the_stated_costs():
    _claim, notice = wik_claim()
    assert notice.kind == LegalNotice.Kind.WIK_LETTER
    assert notice.presumed_received_on == date(2026, 3, 9)
    assert notice.term_ends_on == date(2026, 3, 23)
    assert notice.costs_stated == Decimal("425.00")  # 15% of 2,500 + 10% of 500
    assert legal_notice_record(message=notice.message) == notice  # idempotent


def test_the_job_records_notices_for_sent_messages_once():
    claim = claim_with_policy(regime=Regime.PRIVATE)
    sent_message(claim, StepKind.FORMAL_REMINDER, sent_at=POSTED)
    sent_message(claim, StepKind.REMINDER, sent_at=POSTED)  # not a legal notice
    assert legal_notices_record_sent(now=DAY_AFTER) == 1
    assert legal_notices_record_sent(now=DAY_AFTER) == 0
    assert LegalNotice.objects.filter(claim=claim).count() == 1


def test_an_email_delivered_later_moves_the_term():
    claim = claim_with_policy(regime=Regime.PRIVATE)
    message = sent_message(claim, StepKind.FORMAL_REMINDER, sent_at=at(date(2026, 3, 2)), channel="email")
    notice = legal_notice_record(message=message)
    assert notice.term_ends_on == date(2026, 3, 16)
    message.delivered_at = at(date(2026, 3, 3))
    message.save()
    legal_notices_record_sent(now=DAY_AFTER)
    notice.refresh_from_db()
    assert notice.presumed_received_on == date(2026, 3, 3)
    assert notice.term_ends_on == date(2026, 3, 17)


def test_costs_are_refused_on_the_last_day_of_the_term_and_added_the_day_after():
    claim, notice = wik_claim()
    proposal = approved(claim, notice)
    with pytest.raises(CostsNotAllowed, match="term"):
        claim_costs_add(claim=claim, kind="wik", proposal=proposal, actor=None, now=LAST_DAY)
    claim.refresh_from_db()
    assert claim.costs_amount == 0

    line = claim_costs_add(claim=claim, kind="wik", proposal=proposal, actor=None, now=DAY_AFTER)
    claim.refresh_from_db()
    assert line.amount == Decimal("425.00")
    assert claim.costs_amount == Decimal("425.00")
    assert claim.principal == Decimal("3000.00")  # costs stay separate from the principal
    # Charging again changes nothing.
    assert claim_costs_add(claim=claim, kind="wik", proposal=proposal, actor=None, now=DAY_AFTER) == line
    claim.refresh_from_db()
    assert claim.costs_amount == Decimal("425.00")


def test_costs_need_an_approved_proposal():
    claim, notice = wik_claim()
    pending = EscalationProposal.objects.create(claim=claim, step=notice.message.step, action="add_costs:wik")
    with pytest.raises(CostsNotAllowed, match="approved"):
        claim_costs_add(claim=claim, kind="wik", proposal=pending, actor=None, now=DAY_AFTER)
    assert not ClaimCost.objects.exists()


def test_costs_are_recalculated_on_the_remainder_after_a_partial_payment():
    claim, notice = wik_claim("3000.00")
    claim.open_amount = Decimal("1000.00")  # 2,000 paid during the term
    claim.save()
    line = claim_costs_add(claim=claim, kind="wik", proposal=approved(claim, notice), actor=None, now=DAY_AFTER)
    assert line.amount == Decimal("150.00")
    assert line.basis_amount == Decimal("1000.00")


def test_costs_never_exceed_what_the_letter_stated():
    claim, notice = wik_claim("1000.00")  # stated 150
    claim.open_amount = Decimal("1000.00")
    notice.costs_stated = Decimal("100.00")  # e.g. the letter stated a lower amount
    notice.save()
    line = claim_costs_add(claim=claim, kind="wik", proposal=approved(claim, notice), actor=None, now=DAY_AFTER)
    assert line.amount == Decimal("100.00")


def test_no_costs_without_a_notice():
    claim = claim_with_policy(regime=Regime.PRIVATE)
    proposal = EscalationProposal.objects.create(
        claim=claim,
        step=claim.policy.steps.get(kind=StepKind.FORMAL_REMINDER),
        action="add_costs:wik",
        status=EscalationProposal.Status.APPROVED,
    )
    with pytest.raises(CostsNotAllowed, match="notice"):
        claim_costs_add(claim=claim, kind="wik", proposal=proposal, actor=None, now=DAY_AFTER)


def test_the_daily_job_proposes_costs_only_after_the_term(team_lead):
    claim, _notice = wik_claim("100.00")
    assert cost_proposals_create(now=LAST_DAY) == 0
    assert cost_proposals_create(now=DAY_AFTER) == 1
    assert cost_proposals_create(now=DAY_AFTER) == 0  # once
    proposal = EscalationProposal.objects.get(claim=claim)
    assert proposal.action == "add_costs:wik"
    assert proposal.proposed_costs == Decimal("40.00")

    decision = proposal_approve(proposal=proposal, actor=team_lead, reason="Term passed unpaid", now=DAY_AFTER)
    assert decision.final
    claim.refresh_from_db()
    assert claim.costs_amount == Decimal("40.00")
    assert ClaimCost.objects.get(claim=claim).charged_by == team_lead


def test_tax_aanmaning_costs_after_the_term_with_approval(team_lead):
    claim = claim_with_policy(regime=Regime.TAX, principal="500.00", due_on=date(2026, 2, 1))
    message = sent_message(claim, StepKind.FORMAL_REMINDER, sent_at=at(date(2026, 3, 2)))
    notice = legal_notice_record(message=message)
    assert notice.costs_stated == Decimal("19.00")
    assert notice.term_ends_on == date(2026, 3, 16)
    assert cost_proposals_create(now=at(date(2026, 3, 16))) == 0
    assert cost_proposals_create(now=at(date(2026, 3, 17))) == 1
    proposal = EscalationProposal.objects.get(claim=claim)
    proposal_approve(proposal=proposal, actor=team_lead, now=at(date(2026, 3, 17)))
    claim.refresh_from_db()
    assert claim.costs_amount == Decimal("19.00")


def test_a_paid_claim_gets_no_cost_proposal_and_approval_is_refused(team_lead):
    claim, _notice = wik_claim("100.00")
    cost_proposals_create(now=DAY_AFTER)
    proposal = EscalationProposal.objects.get(claim=claim)
    claim.status = claim.Status.PAID
    claim.open_amount = Decimal("0.00")
    claim.save()
    with pytest.raises(ApprovalError, match="no longer open"):
        proposal_approve(proposal=proposal, actor=team_lead, now=DAY_AFTER)
    claim.refresh_from_db()
    assert claim.costs_amount == 0
