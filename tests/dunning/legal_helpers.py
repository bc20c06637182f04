"""Shared builders for the legal tests (pauses, costs, approvals, arrangements)."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from campaigns.models import Regime, StepKind, Tone
from dunning.models import EscalationProposal, Message
from tests.factories import make_claim, make_policy

AMS = ZoneInfo("Europe/Amsterdam")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=AMS)


def claim_with_policy(*, regime: str = Regime.TAX, principal: str = "125.00", due_on: date | None = None, **kw):
    policy = make_policy(regime=regime)
    due_on = due_on or date(2026, 1, 1)
    return make_claim(
        regime=regime,
        policy=policy,
        principal=Decimal(principal),
        issued_on=due_on.replace(day=1) if due_on.day > 1 else due_on,
        due_on=due_on,
        **kw,
    )


def step_of(claim, kind: str):
    return claim.policy.steps.get(kind=kind)


def sent_message(claim, kind: str, *, sent_at: datetime, channel: str = "letter", delivered_at=None) -> Message:
    return Message.objects.create(
        claim=claim,
        step=step_of(claim, kind),
        channel=channel,
        tone=Tone.NEUTRAL,
        scheduled_for=sent_at,
        status=Message.Status.DELIVERED if delivered_at else Message.Status.SENT,
        sent_at=sent_at,
        delivered_at=delivered_at,
    )


def escalation_awaiting(claim, *, needs_second: bool = False, created_at: datetime | None = None):
    """What the planner makes for a needs_approval step: a held message and a pending proposal."""
    step = step_of(claim, StepKind.ESCALATION)
    message = Message.objects.create(
        claim=claim,
        step=step,
        channel="letter",
        tone=Tone.FORMAL,
        scheduled_for=created_at or at(date(2026, 2, 12)),
        status=Message.Status.AWAITING_APPROVAL,
    )
    proposal = EscalationProposal.objects.create(
        claim=claim, step=step, message=message, needs_second_approval=needs_second
    )
    return proposal, message
