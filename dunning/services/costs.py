"""Charging costs on a claim: only after the legal term has passed, and only with an approved proposal.

The path to costs:
1. A legal notice leaves (WIK 14-day letter, aanmaning). `legal_notice_record` stores the evidence: when it
   was sent, when it counts as received, when its term ends and which costs it stated.
2. The daily job (`cost_proposals_create`) finds notices whose term has passed on claims still open and
   unpaused, and creates an EscalationProposal "add_costs:<kind>" for a team lead.
3. Approving it (dunning.services.approvals) calls `claim_costs_add`, which re-checks everything under the
   claim's row lock and adds the costs to claim.costs_amount (never to the principal).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.models import Regime
from config.actors import actor_context
from customers.models import CareFlag, Channel
from dunning.legal import (
    cost_kind_for_escalation,
    cost_kind_for_notice,
    costs_for,
    notice_kind_for,
    terms_for_message,
    wik_costs_stated,
)
from dunning.models import Claim as ClaimModel
from dunning.models import ClaimCost, CostKind, EscalationProposal, LegalNotice, Message
from dunning.selectors.legal import claim_is_paused, cost_rate_for, latest_notice

logger = logging.getLogger(__name__)

ACTION_ADD_COSTS = "add_costs"
SENT_STATUSES = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.BOUNCED)

# Which notice must have run its term before a cost of this kind may be charged.
REQUIRED_NOTICE: dict[str, tuple[str, ...]] = {
    CostKind.WIK: (LegalNotice.Kind.WIK_LETTER,),
    CostKind.AANMANING: (LegalNotice.Kind.TAX_AANMANING,),
    CostKind.AWB_FEE: (LegalNotice.Kind.AWB_AANMANING,),
    # A dwangbevel may only follow an aanmaning whose term passed unpaid (Invorderingswet art. 12, Awb 4:114).
    CostKind.DWANGBEVEL: (LegalNotice.Kind.TAX_AANMANING, LegalNotice.Kind.AWB_AANMANING),
}


class CostsNotAllowed(Exception):
    """Costs cannot be charged (yet): the message says why, for the person deciding."""


def cost_proposal_action(kind: str) -> str:
    return f"{ACTION_ADD_COSTS}:{kind}"


def cost_kind_of_action(action: str) -> str:
    prefix = f"{ACTION_ADD_COSTS}:"
    return action[len(prefix) :] if action.startswith(prefix) else ""


def debtor_has_active_care_flag(*, debtor_id: int, day: date) -> bool:
    return CareFlag.objects.filter(CareFlag.active_q(day), debtor_id=debtor_id).exists()


def legal_notice_record(*, message: Message) -> LegalNotice | None:
    """Store (or refresh) the evidence for a sent message that is a legal notice; None for other messages.

    Idempotent. An e-mail's delivery report may come after the first record: the presumed receipt and
    term are refreshed until costs have been charged on the strength of this notice.
    """
    claim = message.claim
    kind = notice_kind_for(regime=claim.regime, step_kind=message.step.kind)
    sent_at = message.sent_at or (message.bundled_into.sent_at if message.bundled_into_id else None)
    if not kind or sent_at is None:
        return None
    delivered_at = message.delivered_at if message.channel in (Channel.EMAIL, Channel.SMS) else None
    sent_on = timezone.localdate(sent_at)
    terms = terms_for_message(
        claim=claim,
        step=message.step,
        sent_on=sent_on,
        channel=message.channel,
        delivered_on=timezone.localdate(delivered_at) if delivered_at else None,
    )
    existing = LegalNotice.objects.filter(message=message).first()
    if existing is not None:
        if existing.costs.exists() or (
            existing.presumed_received_on == terms.presumed_received_on and existing.delivered_at == delivered_at
        ):
            return existing
        existing.delivered_at = delivered_at
        existing.presumed_received_on = terms.presumed_received_on
        existing.term_ends_on = terms.term_ends_on
        existing.save(update_fields=["delivered_at", "presumed_received_on", "term_ends_on"])
        return existing
    try:
        with transaction.atomic():
            return LegalNotice.objects.create(
                claim=claim,
                message=message,
                kind=kind,
                channel=message.channel,
                sent_at=sent_at,
                delivered_at=delivered_at,
                presumed_received_on=terms.presumed_received_on,
                term_days=terms.term_days,
                term_ends_on=terms.term_ends_on,
                cost_kind=terms.cost_kind or cost_kind_for_notice(kind),
                costs_stated=terms.costs_if_unpaid,
                # The open amount the notice was about: what the band and the WIK scale were computed on.
                open_amount_stated=claim.open_amount,
            )
    except IntegrityError:  # recorded by a parallel run
        return LegalNotice.objects.get(message=message)


def legal_notices_record_sent(*, now: datetime) -> int:
    """Record evidence for every sent legal-notice message without it (and refresh e-mail deliveries)."""
    count = 0
    missing = (
        Message.objects.filter(status__in=(*SENT_STATUSES, Message.Status.BUNDLED), sent_at__lte=now)
        .filter(legal_notice__isnull=True)
        .select_related("claim", "step", "bundled_into")
    )
    undelivered_email = Message.objects.filter(
        legal_notice__isnull=False,
        legal_notice__delivered_at__isnull=True,
        delivered_at__isnull=False,
        channel=Channel.EMAIL,
    ).select_related("claim", "step", "bundled_into")
    for message in [*missing.iterator(), *undelivered_email.iterator()]:
        try:
            if legal_notice_record(message=message) is not None:
                count += 1
        except Exception:  # one bad row must not stop the batch
            logger.exception("legal notice for message %s could not be recorded", message.pk)
    return count


@dataclass(frozen=True)
class CostQuote:
    kind: str
    amount: Decimal
    vat: Decimal
    basis: Decimal
    notice: LegalNotice | None
    rate_id: int | None
    rate_verified: bool


def costs_quote(*, claim: ClaimModel, kind: str, today: date) -> CostQuote:
    """What `claim_costs_add` would charge today, or CostsNotAllowed saying why not. Reads only."""
    if not claim.is_open:
        raise CostsNotAllowed(f"Claim {claim.payment_reference} is not open ({claim.get_status_display()}).")
    if claim.open_amount <= 0:
        raise CostsNotAllowed("Nothing of the principal is open; no costs can be charged on it.")
    notice = latest_notice(claim=claim, kinds=REQUIRED_NOTICE[kind])
    if notice is None:
        raise CostsNotAllowed(
            f"No notice on file that opens the way to {CostKind(kind).label}: the debtor must first get "
            "a notice stating the term and the costs."
        )
    if not notice.term_has_passed(today):
        raise CostsNotAllowed(
            f"The term of the {notice.get_kind_display()} ends on {notice.term_ends_on:%d-%m-%Y} "
            f"(received {notice.presumed_received_on:%d-%m-%Y}); costs can be charged from "
            f"{notice.term_ends_on.toordinal() - today.toordinal() + 1} day(s) from now at the earliest."
        )
    regime = claim.regime
    rate_id, verified, vat = None, True, Decimal("0.00")
    if kind == CostKind.WIK:
        if notice.costs_stated <= 0:
            raise CostsNotAllowed("The 14-day letter did not state the costs; WIK costs cannot be charged.")
        # Recalculated on what is still open, never more than the letter stated.
        amount, vat = wik_costs_stated(claim.open_amount)
        if amount > notice.costs_stated:
            amount, vat = notice.costs_stated, min(vat, notice.costs_stated)
    elif kind in (CostKind.AANMANING, CostKind.AWB_FEE):
        if notice.costs_stated <= 0:
            raise CostsNotAllowed("The aanmaning did not state costs, so none can be charged for it.")
        amount = notice.costs_stated
    else:  # dwangbevel: the rate in force today for the amount collected
        rate = cost_rate_for(regime=regime, kind=kind, on=today, amount=claim.open_amount)
        if rate is None or rate.amount <= 0:
            raise CostsNotAllowed(f"No {CostKind(kind).label} rate on file for {today:%d-%m-%Y}.")
        amount, rate_id, verified = rate.amount, rate.pk, rate.is_verified
    return CostQuote(
        kind=kind,
        amount=amount,
        vat=vat,
        basis=claim.open_amount,
        notice=notice,
        rate_id=rate_id,
        rate_verified=verified,
    )


def claim_costs_add(*, claim: ClaimModel, kind: str, proposal: EscalationProposal, actor, now: datetime) -> ClaimCost:
    """Charge a cost of `kind` on `claim`, justified by an APPROVED proposal. Returns the (existing) cost line.

    Refused with CostsNotAllowed before the notice's term has passed, on a claim that is not open, or
    without an approved proposal for this claim. The costs go to claim.costs_amount, separate from the
    principal, and show in every later message and in the clerk's claim page.
    """
    if proposal.claim_id != claim.pk or proposal.status != EscalationProposal.Status.APPROVED:
        raise CostsNotAllowed("Costs are only charged after a person approved them (approval queue).")
    with transaction.atomic(), actor_context(actor):
        locked = ClaimModel.objects.select_for_update().get(pk=claim.pk)
        existing = ClaimCost.objects.filter(claim=locked, kind=kind).first()
        if existing is not None:
            return existing
        quote = costs_quote(claim=locked, kind=kind, today=timezone.localdate(now))
        line = ClaimCost.objects.create(
            claim=locked,
            kind=kind,
            amount=quote.amount,
            vat_amount=quote.vat,
            basis_amount=quote.basis,
            notice=quote.notice,
            proposal=proposal,
            rate_id=quote.rate_id,
            charged_at=now,
            charged_by=actor,
        )
        locked.costs_amount += quote.amount
        locked.save(update_fields=["costs_amount", "updated_at"])
        claim.costs_amount = locked.costs_amount
        return line


def cost_proposals_create(*, now: datetime) -> int:
    """Propose charging costs where a notice's term has passed unpaid. Idempotent; returns proposals made.

    One proposal per claim and cost kind, ever (a rejected one is not proposed again). Claims that are
    paused, settled, or already charged are skipped. Care-flagged debtors need two approvers.
    """
    today = timezone.localdate(now)
    made = 0
    notices = (
        LegalNotice.objects.filter(
            term_ends_on__lt=today,
            costs_stated__gt=0,
            claim__status=ClaimModel.Status.OPEN,
            message__isnull=False,
            kind__in=(
                LegalNotice.Kind.WIK_LETTER,
                LegalNotice.Kind.TAX_AANMANING,
                LegalNotice.Kind.AWB_AANMANING,
            ),
        )
        .exclude(Exists(ClaimCost.objects.filter(claim=OuterRef("claim"), kind=OuterRef("cost_kind"))))
        .select_related("claim", "message__step")
        .order_by("claim_id", "-sent_at")
    )
    seen: set[tuple[int, str]] = set()
    for notice in notices.iterator():
        key = (notice.claim_id, notice.cost_kind)
        if key in seen or not notice.cost_kind:
            continue
        seen.add(key)
        claim = notice.claim
        action = cost_proposal_action(notice.cost_kind)
        if (
            EscalationProposal.objects.filter(claim=claim, action=action)
            .exclude(status=EscalationProposal.Status.WITHDRAWN)
            .exists()
        ):
            continue
        if claim_is_paused(claim=claim, moment=now):
            continue
        try:
            quote = costs_quote(claim=claim, kind=notice.cost_kind, today=today)
        except CostsNotAllowed:
            continue
        try:
            with transaction.atomic():
                proposal, created = EscalationProposal.objects.get_or_create(
                    claim=claim,
                    step=notice.message.step,
                    defaults={
                        "action": action,
                        "proposed_costs": quote.amount,
                        "needs_second_approval": debtor_has_active_care_flag(debtor_id=claim.debtor_id, day=today),
                        "created_at": now,
                    },
                )
                if not created and proposal.status == EscalationProposal.Status.WITHDRAWN:
                    # Withdrawn by a pause earlier; the term has passed again after the pause: propose anew.
                    proposal.status = EscalationProposal.Status.PENDING
                    proposal.action = action
                    proposal.proposed_costs = quote.amount
                    proposal.first_decided_by = proposal.second_decided_by = None
                    proposal.first_decided_at = proposal.second_decided_at = None
                    proposal.needs_second_approval = debtor_has_active_care_flag(debtor_id=claim.debtor_id, day=today)
                    proposal.save()
                    created = True
        except IntegrityError:
            continue
        made += int(created)
    return made


def regime_needs_aanmaning_before_escalation(regime: str) -> bool:
    return regime in (Regime.TAX, Regime.ADMINISTRATIVE)


def escalation_cost_quote(*, claim: ClaimModel, today: date) -> Decimal:
    """The dwangbevel cost an escalation would charge today (0 when the regime has none or no rate)."""
    kind = cost_kind_for_escalation(claim.regime)
    amount, _vat, _ok = costs_for(regime=claim.regime, cost_kind=kind, on=today, open_amount=claim.open_amount)
    return amount
