"""What a team lead sees before deciding an escalation: why it is proposed and who it concerns."""

import logging
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from customers.models import CareFlag
from dunning.models import ClaimCost, EscalationProposal, LegalNotice, Message, Pause, Payment
from dunning.services.costs import CostsNotAllowed, cost_kind_of_action, costs_quote

logger = logging.getLogger(__name__)


def proposals_queue(*, now: datetime) -> QuerySet[EscalationProposal]:
    """Proposals annotated with `care` (debtor has an active care flag), for highlighting in the list."""
    today = timezone.localdate(now)
    return EscalationProposal.objects.annotate(
        care=Exists(CareFlag.objects.filter(CareFlag.active_q(today), debtor_id=OuterRef("claim__debtor_id")))
    )


def _segment_explanation(*, proposal: EscalationProposal, now: datetime):
    try:
        from dunning.selectors.segments import segment_explain

        return segment_explain(debtor=proposal.claim.debtor, claim=proposal.claim, now=now)
    except Exception:  # the explanation is context for a person; its absence must not hide the page
        logger.exception("segment explanation failed for proposal %s", proposal.pk)
        return None


def proposal_overview(*, proposal: EscalationProposal, now: datetime) -> dict:
    """Everything the proposal page shows: claim history, messages and delivery, segment, pauses, care."""
    claim = proposal.claim
    debtor = claim.debtor
    today = timezone.localdate(now)
    messages = (
        Message.objects.filter(claim=claim)
        .select_related("step", "segment")
        .prefetch_related("events")
        .order_by("scheduled_for", "pk")
    )
    care_flags = list(CareFlag.objects.filter(debtor=debtor).order_by("-starts_on"))
    active_care = [f for f in care_flags if f.is_active_on(today)]
    pauses = Pause.objects.filter(claim=claim) | Pause.objects.filter(debtor=debtor)
    warnings: list[str] = []
    kind = cost_kind_of_action(proposal.action)
    quote = None
    if kind:
        try:
            quote = costs_quote(claim=claim, kind=kind, today=today)
        except CostsNotAllowed as exc:
            warnings.append(str(exc))
    if proposal.proposed_costs and not kind:
        from dunning.selectors.legal import cost_rate_for

        rate = cost_rate_for(regime=claim.regime, kind="dwangbevel", on=today, amount=claim.open_amount)
        if rate is not None and not rate.is_verified:
            warnings.append(
                f"The dwangbevel cost rate (EUR {rate.amount}) is a placeholder that was not checked against "
                "the Kostenwet; check the cost rates before approving."
            )
    return {
        "claim": claim,
        "debtor": debtor,
        "messages": list(messages),
        "payments": list(Payment.objects.filter(claim=claim).order_by("paid_at")),
        "notices": list(LegalNotice.objects.filter(claim=claim).order_by("sent_at")),
        "cost_lines": list(ClaimCost.objects.filter(claim=claim).order_by("charged_at")),
        "pauses": list(pauses.order_by("-starts_at")),
        "care_flags": care_flags,
        "active_care_flags": active_care,
        "needs_two": proposal.needs_second_approval or bool(active_care),
        "explanation": _segment_explanation(proposal=proposal, now=now),
        "recorded_segments": sorted({str(m.segment) for m in messages if m.segment_id}),
        "cost_kind": kind,
        "quote": quote,
        "warnings": warnings,
    }
