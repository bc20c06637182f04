"""Pauses (opschorting): collection stops while an objection, arrangement, waiver request ... is open.

Starting a pause cancels every pending message of the claim(s) (reason "paused") and withdraws pending
escalation proposals, in one transaction under the claim row lock (the lock the dispatcher re-checks
under). Ending a pause moves the claim's remaining schedule (`Claim.schedule_shift_days`) so that the next
step is due no sooner than RESUME_GRACE_DAYS after the pause ends: the debtor gets the next step, with
time to react, and never a burst of every step that fell inside the pause.

The planner computes due = claim.due_on + step.offset_days + claim.schedule_shift_days and skips claims
with an active pause; the dispatcher re-checks for an active pause before sending.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.actors import actor_context
from customers.models import Debtor
from dunning.models import Claim, EscalationProposal, Message, Pause
from dunning.selectors.legal import CANCEL_REASON_PAUSED, next_open_step, next_step_due_on

RESUME_GRACE_DAYS = 5
# Reasons that concern the person, not one claim: they always pause every claim of the debtor.
DEBTOR_WIDE_REASONS = (Pause.Reason.DEBT_ASSISTANCE, Pause.Reason.DECEASED)


class PauseError(ValueError):
    pass


@dataclass(frozen=True)
class PauseStarted:
    pause: Pause
    messages_cancelled: int
    proposals_withdrawn: int


def _claims_of(pause: Pause) -> list[Claim]:
    if pause.claim_id:
        return [pause.claim]
    return list(Claim.objects.filter(debtor_id=pause.debtor_id, status=Claim.Status.OPEN).order_by("pk"))


def _halt_claims(*, claim_ids: list[int], now: datetime) -> tuple[int, int]:
    """Cancel pending messages and withdraw pending proposals of locked claims."""
    cancelled = Message.objects.filter(claim_id__in=claim_ids, status__in=Message.PENDING_STATUSES).update(
        status=Message.Status.CANCELLED, cancel_reason=CANCEL_REASON_PAUSED, cancelled_at=now
    )
    withdrawn = EscalationProposal.objects.filter(
        claim_id__in=claim_ids, status=EscalationProposal.Status.PENDING
    ).update(status=EscalationProposal.Status.WITHDRAWN)
    return cancelled, withdrawn


def pause_start(
    *,
    claim: Claim | None = None,
    debtor: Debtor | None = None,
    reason: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    note: str = "",
    actor=None,
    now: datetime | None = None,
    arrangement=None,
) -> PauseStarted:
    """Pause one claim or every claim of a debtor. Debt assistance and death always pause the debtor."""
    now = now or timezone.now()
    starts_at = starts_at or now
    if (claim is None) == (debtor is None):
        raise PauseError("A pause applies to either one claim or one debtor.")
    if reason not in Pause.Reason.values:
        raise PauseError(f"Unknown pause reason {reason!r}.")
    if ends_at is not None and ends_at <= starts_at:
        raise PauseError("A pause must end after it starts.")
    if claim is not None and reason in DEBTOR_WIDE_REASONS:
        claim, debtor = None, claim.debtor
    with transaction.atomic(), actor_context(actor):
        pause = Pause(
            claim=claim,
            debtor=debtor,
            reason=reason,
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
            created_by=actor,
            arrangement=arrangement,
        )
        pause.full_clean()
        pause.save()
        cancelled = withdrawn = 0
        if starts_at <= now:
            claim_ids = [c.pk for c in _claims_of(pause)]
            # Same lock as payments and the dispatcher: nothing can be mid-send while we cancel.
            list(Claim.objects.select_for_update().filter(pk__in=claim_ids).order_by("pk").values_list("pk"))
            cancelled, withdrawn = _halt_claims(claim_ids=claim_ids, now=now)
    return PauseStarted(pause=pause, messages_cancelled=cancelled, proposals_withdrawn=withdrawn)


def schedule_shift_for_resume(*, claim: Claim, resume_on) -> int:
    """The schedule shift (days) so the claim's next open step is due no sooner than resume + grace.

    Only ever grows: steps keep their spacing, and a shift applied by an earlier pause stays.
    """
    step = next_open_step(claim)
    if step is None:
        return claim.schedule_shift_days
    earliest = resume_on + timedelta(days=RESUME_GRACE_DAYS)
    due = next_step_due_on(claim, step)
    extra = (earliest - due).days
    return claim.schedule_shift_days + max(extra, 0)


def _resume(*, pause: Pause, now: datetime) -> int:
    """Apply the schedule shift for the end of `pause` to its open claims; returns claims shifted."""
    resume_on = timezone.localdate(pause.ends_at)
    shifted = 0
    claims = Claim.objects.select_for_update().filter(status=Claim.Status.OPEN)
    claims = claims.filter(pk=pause.claim_id) if pause.claim_id else claims.filter(debtor_id=pause.debtor_id)
    for claim in claims.order_by("pk"):
        new_shift = schedule_shift_for_resume(claim=claim, resume_on=resume_on)
        if new_shift != claim.schedule_shift_days:
            claim.schedule_shift_days = new_shift
            claim.save(update_fields=["schedule_shift_days", "updated_at"])
            shifted += 1
    pause.resumed_at = now
    pause.save(update_fields=["resumed_at"])
    return shifted


def pause_end(*, pause: Pause, ends_at: datetime | None = None, actor=None, now: datetime | None = None) -> Pause:
    """End a pause (now or at `ends_at`) and shift the remaining schedule so it resumes without a burst."""
    now = now or timezone.now()
    ends_at = ends_at or now
    with transaction.atomic(), actor_context(actor):
        pause = Pause.objects.select_for_update().get(pk=pause.pk)
        if pause.resumed_at is not None and pause.ends_at is not None and pause.ends_at <= now:
            return pause  # already ended and resumed
        if ends_at <= pause.starts_at:
            ends_at = pause.starts_at + timedelta(seconds=1)
        pause.ends_at = ends_at
        pause.ended_by = actor
        pause.save(update_fields=["ends_at", "ended_by"])
        _resume(pause=pause, now=now)
    return pause


def pauses_resume_ended(*, now: datetime) -> int:
    """Daily: pauses whose planned end has passed get their schedule shift, exactly once."""
    done = 0
    due = Pause.objects.filter(ends_at__isnull=False, ends_at__lte=now, resumed_at__isnull=True).order_by("pk")
    for pause_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            pause = Pause.objects.select_for_update().get(pk=pause_id)
            if pause.resumed_at is None:
                _resume(pause=pause, now=now)
                done += 1
    return done


def pauses_halt_started(*, now: datetime) -> int:
    """Daily (and safe any time): pauses that started since they were set (future start) halt their claims."""
    halted = 0
    active = Pause.objects.filter(Pause.active_q(now))
    claim_ids = set(active.filter(claim__isnull=False).values_list("claim_id", flat=True))
    claim_ids |= set(
        Claim.objects.filter(
            status=Claim.Status.OPEN, debtor_id__in=active.filter(debtor__isnull=False).values("debtor_id")
        ).values_list("pk", flat=True)
    )
    pending = set(
        Message.objects.filter(claim_id__in=claim_ids, status__in=Message.PENDING_STATUSES).values_list(
            "claim_id", flat=True
        )
    ) | set(
        EscalationProposal.objects.filter(claim_id__in=claim_ids, status=EscalationProposal.Status.PENDING).values_list(
            "claim_id", flat=True
        )
    )
    for claim_id in sorted(pending):
        with transaction.atomic():
            list(Claim.objects.select_for_update().filter(pk=claim_id).values_list("pk"))
            cancelled, withdrawn = _halt_claims(claim_ids=[claim_id], now=now)
            halted += int(bool(cancelled or withdrawn))
    return halted


def pauses_for_debtor_q(debtor_id: int) -> Q:
    return Q(debtor_id=debtor_id) | Q(claim__debtor_id=debtor_id)
