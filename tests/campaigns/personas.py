"""A small dunning world for engine tests: segments, a policy with overrides, templates, and personas.

Dates: claims are due on 2026-03-30 (a Monday); the reminder step (+3) is due on Thursday 2026-04-02.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from campaigns.models import DunningPolicy, PolicyStep, Segment, StepKind, StepOverride, Tone
from customers.models import Channel
from dunning.models import Claim
from tests.factories import make_care_flag, make_claim, make_debtor, make_policy, make_segment, make_template

AMS = ZoneInfo("Europe/Amsterdam")
BODY = (
    "Beste {{ salutation }}, nog open: {{ open_amount }} (kenmerk {{ claim_reference }}). "
    "{% for c in claims %}[{{ c.reference }}]{% endfor %}"
)
DUE_ON = date(2026, 3, 30)
REMINDER_DAY = datetime(2026, 4, 2, 10, 0, tzinfo=AMS)  # Thursday, inside every window


def at(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


@dataclass
class World:
    policy: DunningPolicy
    reminder: PolicyStep
    formal: PolicyStep
    escalation: PolicyStep
    care: Segment
    on_time: Segment
    chronic: Segment
    default: Segment


def build_world() -> World:
    care = make_segment(
        name="Heeft hulp nodig",
        priority=10,
        rules=[{"attribute": "has_active_care_flag", "operator": "eq", "value": True}],
    )
    on_time = make_segment(
        name="Altijd op tijd",
        priority=20,
        rules=[
            {"attribute": "on_time_share_24m", "operator": "gte", "value": 0.9},
            {"attribute": "debtor_kind", "operator": "eq", "value": "person"},
        ],
    )
    chronic = make_segment(
        name="Chronische laatbetaler",
        priority=30,
        rules=[{"attribute": "on_time_share_24m", "operator": "lt", "value": 0.5}],
    )
    default = make_segment(name="Overig", priority=1000, is_default=True)
    policy = make_policy(
        steps=[
            (3, StepKind.REMINDER, ["email", "sms", "letter"], Tone.NEUTRAL, False),
            (14, StepKind.FORMAL_REMINDER, ["email", "letter"], Tone.NEUTRAL, False),
            (42, StepKind.ESCALATION, ["letter"], Tone.FORMAL, True),
        ]
    )
    reminder, formal, escalation = list(policy.steps.order_by("order"))
    StepOverride.objects.create(step=reminder, segment=on_time, tone=Tone.FRIENDLY)
    StepOverride.objects.create(step=reminder, segment=chronic, tone=Tone.FORMAL, channels=["sms", "email", "letter"])
    for kind in (StepKind.REMINDER, StepKind.FORMAL_REMINDER, StepKind.ESCALATION):
        for tone in Tone.values:
            for channel in Channel.values:
                make_template(
                    step_kind=kind,
                    tone=tone,
                    channel=channel,
                    language="nl",
                    subject=f"[{tone}] Betaal {{{{ claim_reference }}}}" if channel != "sms" else "",
                    body=f"[{tone}] " + BODY,
                )
    make_template(
        step_kind=StepKind.REMINDER,
        tone=Tone.NEUTRAL,
        channel=Channel.EMAIL,
        language="en",
        subject="Reminder {{ claim_reference }}",
        body="[en] Dear {{ salutation }}, still open: {{ open_amount }}.",
    )
    return World(policy, reminder, formal, escalation, care, on_time, chronic, default)


def history(debtor, *, on_time: int, late: int) -> None:
    """Paid claims in the last 24 months: `on_time` paid before due, `late` paid 20 days late."""
    for i in range(on_time + late):
        due = DUE_ON - timedelta(days=60 + 30 * i)
        paid_on = due - timedelta(days=2) if i < on_time else due + timedelta(days=20)
        make_claim(
            debtor,
            issued_on=due - timedelta(days=30),
            due_on=due,
            status=Claim.Status.PAID,
            open_amount=Decimal("0.00"),
            settled_at=timezone.make_aware(datetime.combine(paid_on, datetime.min.time()).replace(hour=12), AMS),
        )


def open_claim(debtor, world: World, **overrides) -> Claim:
    fields = {"policy": world.policy, "issued_on": DUE_ON - timedelta(days=30), "due_on": DUE_ON}
    fields.update(overrides)
    return make_claim(debtor, **fields)


def punctual_debtor(**overrides):
    debtor = make_debtor(**overrides)
    history(debtor, on_time=4, late=0)
    return debtor


def chronic_debtor(**overrides):
    debtor = make_debtor(**overrides)
    history(debtor, on_time=0, late=4)
    return debtor


def care_debtor(**overrides):
    debtor = make_debtor(**overrides)
    history(debtor, on_time=0, late=4)
    make_care_flag(debtor, starts_on=DUE_ON - timedelta(days=100))
    return debtor
