"""The approval queue: a person decides every step with legal effect (GDPR art. 22).

Escalation proposals come from the planner (steps marked needs_approval: dwangbevel, hand-over to a
bailiff or collection agency) and from the daily cost job (adding costs after a term passed). Nothing
happens until a team lead approves:
- approving moves the linked message from AWAITING_APPROVAL to PLANNED (sent now) and charges the costs
  that go with it (dwangbevel costs, or the proposed collection / aanmaning costs);
- rejecting cancels the message (reason "rejected"); a reason is required.
A debtor with an active care flag needs two approvals from two different people (also a database
constraint). Bulk approval calls the same service per item, so each item records its own approver, and
one person can never give both approvals.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from campaigns.models import Regime, StepKind
from config.actors import actor_context
from dunning.legal import cost_kind_for_escalation
from dunning.models import Claim, CostKind, EscalationProposal, LegalNotice, Message
from dunning.selectors.legal import claim_is_paused, latest_notice
from dunning.services.costs import (
    CostsNotAllowed,
    claim_costs_add,
    cost_kind_of_action,
    costs_quote,
    debtor_has_active_care_flag,
)

PERMISSION = "dunning.decide_escalationproposal"
CANCEL_REASON_REJECTED = "rejected"


class ApprovalError(Exception):
    """The decision cannot be taken; the message says why."""


@dataclass(frozen=True)
class Decision:
    proposal: EscalationProposal
    final: bool  # False: first approval recorded, a second approver is needed


def _check_actor(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(PERMISSION):
        raise PermissionDenied("Only a team lead may decide escalation proposals.")


def _costs_kind(proposal: EscalationProposal, claim: Claim) -> str:
    kind = cost_kind_of_action(proposal.action)
    if kind:
        return kind
    if proposal.step.kind == StepKind.ESCALATION:
        return cost_kind_for_escalation(claim.regime)
    return ""


def _check_preconditions(*, proposal: EscalationProposal, claim: Claim, now: datetime) -> None:
    """What the law needs before this step; raises ApprovalError with the reason."""
    today = timezone.localdate(now)
    if not claim.is_open:
        raise ApprovalError(f"Claim {claim.payment_reference} is no longer open ({claim.get_status_display()}).")
    if claim_is_paused(claim=claim, moment=now):
        raise ApprovalError(f"Claim {claim.payment_reference} is paused; decide after the pause ends.")
    if cost_kind_of_action(proposal.action):
        try:
            costs_quote(claim=claim, kind=cost_kind_of_action(proposal.action), today=today)
        except CostsNotAllowed as exc:
            raise ApprovalError(str(exc)) from exc
        return
    if proposal.step.kind == StepKind.ESCALATION and claim.regime in (Regime.TAX, Regime.ADMINISTRATIVE):
        notice = latest_notice(claim=claim, kinds=(LegalNotice.Kind.TAX_AANMANING, LegalNotice.Kind.AWB_AANMANING))
        if notice is None or not notice.term_has_passed(today):
            when = f" (its term ends on {notice.term_ends_on:%d-%m-%Y})" if notice else ""
            raise ApprovalError(f"A dwangbevel needs an aanmaning whose term has passed unpaid{when}.")


def _execute(*, proposal: EscalationProposal, claim: Claim, actor, now: datetime) -> None:
    proposal.status = EscalationProposal.Status.APPROVED
    proposal.save()
    if proposal.message_id:
        Message.objects.filter(pk=proposal.message_id, status=Message.Status.AWAITING_APPROVAL).update(
            status=Message.Status.PLANNED, scheduled_for=now
        )
    kind = _costs_kind(proposal, claim)
    if not kind:
        return
    if kind == CostKind.DWANGBEVEL and not cost_kind_of_action(proposal.action):
        # The dwangbevel's own costs; a regime without a rate on file charges none.
        try:
            claim_costs_add(claim=claim, kind=kind, proposal=proposal, actor=actor, now=now)
        except CostsNotAllowed:
            if claim.regime == Regime.TAX:
                raise
        return
    try:
        claim_costs_add(claim=claim, kind=kind, proposal=proposal, actor=actor, now=now)
    except CostsNotAllowed as exc:
        raise ApprovalError(str(exc)) from exc


def proposal_approve(*, proposal: EscalationProposal, actor, reason: str = "", now: datetime | None = None) -> Decision:
    """Record `actor`'s approval; carry the step out when enough people approved."""
    _check_actor(actor)
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic(), actor_context(actor):
        # Claim first: the same order as payments and the dispatcher, so we never deadlock with them.
        claim = Claim.objects.select_for_update().get(pk=proposal.claim_id)
        locked = EscalationProposal.objects.select_for_update().select_related("step").get(pk=proposal.pk)
        if locked.status != EscalationProposal.Status.PENDING:
            raise ApprovalError(f"This proposal was already decided ({locked.get_status_display()}).")
        try:
            _check_preconditions(proposal=locked, claim=claim, now=now)
        except CostsNotAllowed as exc:
            raise ApprovalError(str(exc)) from exc
        if debtor_has_active_care_flag(debtor_id=claim.debtor_id, day=today):
            locked.needs_second_approval = True
        note = f"{actor.get_username()}: {reason}".strip() if reason else ""
        if note:
            locked.decision_reason = "\n".join(filter(None, [locked.decision_reason, note]))
        if locked.first_decided_by_id is None:
            locked.first_decided_by = actor
            locked.first_decided_at = now
            if locked.needs_second_approval:
                locked.save()
                proposal.refresh_from_db()
                return Decision(proposal=proposal, final=False)
        else:
            if locked.first_decided_by_id == actor.pk:
                raise ApprovalError(
                    "This debtor has a care flag: a second, different team lead must approve. "
                    "You already gave the first approval."
                )
            locked.second_decided_by = actor
            locked.second_decided_at = now
        try:
            _execute(proposal=locked, claim=claim, actor=actor, now=now)
        except CostsNotAllowed as exc:
            raise ApprovalError(str(exc)) from exc
    proposal.refresh_from_db()
    return Decision(proposal=proposal, final=True)


def proposal_reject(*, proposal: EscalationProposal, actor, reason: str, now: datetime | None = None) -> Decision:
    """Reject with a reason: the step does not happen and its message is cancelled ("rejected")."""
    _check_actor(actor)
    if not (reason or "").strip():
        raise ApprovalError("Say why you reject this proposal.")
    now = now or timezone.now()
    with transaction.atomic(), actor_context(actor):
        Claim.objects.select_for_update().filter(pk=proposal.claim_id).values_list("pk").first()
        locked = EscalationProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != EscalationProposal.Status.PENDING:
            raise ApprovalError(f"This proposal was already decided ({locked.get_status_display()}).")
        if locked.first_decided_by_id is None:
            locked.first_decided_by, locked.first_decided_at = actor, now
        elif locked.first_decided_by_id != actor.pk:
            locked.second_decided_by, locked.second_decided_at = actor, now
        # else: the first approver withdraws their own approval; their name is already on it.
        locked.status = EscalationProposal.Status.REJECTED
        locked.decision_reason = "\n".join(filter(None, [locked.decision_reason, f"{actor.get_username()}: {reason}"]))
        locked.save()
        if locked.message_id:
            Message.objects.filter(pk=locked.message_id, status__in=Message.PENDING_STATUSES).update(
                status=Message.Status.CANCELLED, cancel_reason=CANCEL_REASON_REJECTED, cancelled_at=now
            )
    proposal.refresh_from_db()
    return Decision(proposal=proposal, final=True)


@dataclass
class BulkResult:
    approved: list[EscalationProposal] = field(default_factory=list)
    awaiting_second: list[EscalationProposal] = field(default_factory=list)
    refused: list[tuple[EscalationProposal, str]] = field(default_factory=list)


def proposals_approve_bulk(*, proposals, actor, reason: str = "", now: datetime | None = None) -> BulkResult:
    """Approve each proposal separately, as `actor`: one item's refusal does not stop the others."""
    _check_actor(actor)
    result = BulkResult()
    for proposal in proposals:
        try:
            decision = proposal_approve(proposal=proposal, actor=actor, reason=reason, now=now)
        except ApprovalError as exc:
            result.refused.append((proposal, str(exc)))
            continue
        (result.approved if decision.final else result.awaiting_second).append(decision.proposal)
    return result


def proposal_needs_care(proposal: EscalationProposal, *, now: datetime | None = None) -> bool:
    day = timezone.localdate(now or timezone.now())
    return proposal.needs_second_approval or debtor_has_active_care_flag(debtor_id=proposal.claim.debtor_id, day=day)
