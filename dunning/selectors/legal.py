"""Reads for the legal rules: cost rates in force, schedule dates after pauses, active pauses."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Max, Q, QuerySet

from campaigns.models import PolicyStep, StepKind
from dunning.models import Claim, CostRate, LegalNotice, Message, Pause

CANCEL_REASON_PAUSED = "paused"


def cost_rate_for(*, regime: str, kind: str, on: date, amount: Decimal) -> CostRate | None:
    """The CostRate row valid on `on` whose amount band contains `amount`, or None.

    Should two rows match (the admin refuses overlaps, a data migration might not), the one that
    started most recently wins, so a correction entered later takes effect.
    """
    return (
        CostRate.objects.filter(regime=regime, kind=kind, valid_from__lte=on, band_from__lte=amount)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .filter(Q(band_below__isnull=True) | Q(band_below__gt=amount))
        .order_by("-valid_from", "-band_from", "-id")
        .first()
    )


def cost_rate_overlaps(rate: CostRate) -> QuerySet[CostRate]:
    """Other rows of the same regime and kind whose validity period AND amount band overlap `rate`'s."""
    others = CostRate.objects.filter(regime=rate.regime, kind=rate.kind)
    if rate.pk:
        others = others.exclude(pk=rate.pk)
    # Periods [from, until] overlap when each starts before the other ends (None = open end).
    if rate.valid_until is not None:
        others = others.filter(valid_from__lte=rate.valid_until)
    others = others.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=rate.valid_from))
    # Bands [from, below) overlap likewise.
    if rate.band_below is not None:
        others = others.filter(band_from__lt=rate.band_below)
    others = others.filter(Q(band_below__isnull=True) | Q(band_below__gt=rate.band_from))
    return others


def active_pauses(*, claim: Claim, moment: datetime) -> QuerySet[Pause]:
    """Pauses in force at `moment` for the claim itself or for its debtor."""
    return Pause.objects.filter(Pause.active_q(moment)).filter(Q(claim=claim) | Q(debtor_id=claim.debtor_id))


def claim_is_paused(*, claim: Claim, moment: datetime) -> bool:
    return active_pauses(claim=claim, moment=moment).exists()


def next_step_due_on(claim: Claim, step: PolicyStep) -> date:
    """The day `step` is due for `claim`: the planner's rule, due_on + offset + pause shift."""
    return claim.due_on + timedelta(days=step.offset_days + claim.schedule_shift_days)


def next_open_step(claim: Claim) -> PolicyStep | None:
    """The step the planner will plan next for `claim`: the first after the last step that has a message.

    Mirrors the planner (dunning.services.planning): a step whose message was cancelled (by a pause,
    a rejection) counts as handled, and the schedule moves on to the following step.
    """
    if claim.policy_id is None:
        return None
    steps = PolicyStep.objects.filter(policy_id=claim.policy_id).exclude(kind=StepKind.PAYMENT_CONFIRMATION)
    last = (
        Message.objects.filter(claim=claim, step__policy_id=claim.policy_id)
        .exclude(step__kind=StepKind.PAYMENT_CONFIRMATION)
        .aggregate(last=Max("step__order"))["last"]
    )
    if last is not None:
        steps = steps.filter(order__gt=last)
    return steps.order_by("order").first()


def latest_notice(*, claim: Claim, kinds: tuple[str, ...]) -> LegalNotice | None:
    return LegalNotice.objects.filter(claim=claim, kind__in=kinds).order_by("-sent_at", "-id").first()
