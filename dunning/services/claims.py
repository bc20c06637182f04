"""Status changes a clerk makes on a claim: cancel (the claim was wrong) and write off (it won't be collected).

Both end collection, so both stop every pending reminder and withdraw pending escalation proposals in the
same transaction, under the claim's row lock (the lock the dispatcher re-checks under). The audit trail
records the change with the acting user: inside a request the auditlog middleware sets the actor;
elsewhere the caller wraps the call in `auditlog.context.set_actor`.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.actors import actor_context
from dunning.models import Claim, EscalationProposal, Message


class ClaimStatusError(Exception):
    """The claim is not in a state that allows the change (e.g. already paid)."""


@dataclass(frozen=True)
class ClaimClosed:
    claim: Claim
    changed: bool
    messages_cancelled: int = 0
    proposals_withdrawn: int = 0


def _claim_close(*, claim_id: int, status: str, reason: str, actor=None, now=None) -> ClaimClosed:
    now = now or timezone.now()
    with actor_context(actor), transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        if claim.status == status:
            return ClaimClosed(claim=claim, changed=False)
        if claim.status != Claim.Status.OPEN:
            raise ClaimStatusError(f"claim {claim.pk} is {claim.status}, not open")
        claim.status = status
        claim.settled_at = now
        claim.save(update_fields=["status", "settled_at", "updated_at"])
        cancelled = Message.objects.filter(claim=claim, status__in=Message.PENDING_STATUSES).update(
            status=Message.Status.CANCELLED, cancel_reason=reason, cancelled_at=now
        )
        withdrawn = EscalationProposal.objects.filter(claim=claim, status=EscalationProposal.Status.PENDING).update(
            status=EscalationProposal.Status.WITHDRAWN, decision_reason=reason
        )
    return ClaimClosed(claim=claim, changed=True, messages_cancelled=cancelled, proposals_withdrawn=withdrawn)


def claim_cancel(*, claim: Claim, actor=None, now=None) -> ClaimClosed:
    """Cancel an open claim (issued in error, replaced); idempotent for an already cancelled claim."""
    return _claim_close(
        claim_id=claim.pk, status=Claim.Status.CANCELLED, reason="claim_cancelled", actor=actor, now=now
    )


def claim_write_off(*, claim: Claim, actor=None, now=None) -> ClaimClosed:
    """Write off an open claim (uncollectable, waiver granted); idempotent for an already written-off claim."""
    return _claim_close(
        claim_id=claim.pk, status=Claim.Status.WRITTEN_OFF, reason="claim_written_off", actor=actor, now=now
    )
