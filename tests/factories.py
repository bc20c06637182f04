"""Small builders for test data, with named personas (see STYLE.md: tests read like stories).

Each builder takes keyword overrides and saves. Payment references are made from a counter so they are
valid betalingskenmerken and unique.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from campaigns.models import DunningPolicy, MessageTemplate, PolicyStep, Regime, Segment, StepKind, Tone
from customers.models import CareFlag, Channel, ChannelPreference, Debtor
from dunning.models import Claim, ClaimKind
from dunning.references import payment_reference_make

_counter = itertools.count(1)


def next_number() -> int:
    return next(_counter)


def make_debtor(**overrides) -> Debtor:
    n = next_number()
    fields = {
        "kind": Debtor.Kind.PERSON,
        "source_reference": f"DEB-{n:07d}",
        "given_name": "Jan",
        "surname": f"Jansen{n}",
        "street": "Dorpsstraat",
        "house_number": str(n),
        "postal_code": "1234 AB",
        "city": "Voorbeeld",
        "email": f"jan{n}@example.nl",
        "phone": f"+3161{n:07d}",
        "language": "nl",
    }
    fields.update(overrides)
    return Debtor.objects.create(**fields)


def make_preference(debtor: Debtor, **overrides) -> ChannelPreference:
    fields = {"preferred_channels": [Channel.EMAIL], "stated_by": ChannelPreference.StatedBy.DEBTOR}
    fields.update(overrides)
    return ChannelPreference.objects.create(debtor=debtor, **fields)


def make_care_flag(debtor: Debtor, **overrides) -> CareFlag:
    fields = {"source": CareFlag.Source.SELF_DECLARED, "reason": CareFlag.Reason.FINANCIAL_HARDSHIP}
    fields.update(overrides)
    return CareFlag.objects.create(debtor=debtor, **fields)


def make_policy(*, regime: str = Regime.TAX, steps=None, **overrides) -> DunningPolicy:
    """A policy with the usual ladder unless `steps` is given as (offset, kind, channels, tone, approval)."""
    n = next_number()
    fields = {"name": f"Policy {n}", "regime": regime}
    fields.update(overrides)
    policy = DunningPolicy.objects.create(**fields)
    if steps is None:
        steps = [
            (3, StepKind.REMINDER, ["email", "sms", "letter"], Tone.FRIENDLY, False),
            (14, StepKind.FORMAL_REMINDER, ["email", "letter"], Tone.NEUTRAL, False),
            (28, StepKind.FINAL_NOTICE, ["letter"], Tone.FORMAL, False),
            (42, StepKind.ESCALATION, ["letter"], Tone.FORMAL, True),
        ]
    for order, (offset, kind, channels, tone, approval) in enumerate(steps, start=1):
        PolicyStep.objects.create(
            policy=policy,
            order=order,
            offset_days=offset,
            kind=kind,
            channels=list(channels),
            default_tone=tone,
            needs_approval=approval,
        )
    return policy


def make_claim(debtor: Debtor | None = None, **overrides) -> Claim:
    n = next_number()
    debtor = debtor or make_debtor()
    principal = Decimal(overrides.pop("principal", Decimal("125.00")))
    issued_on = overrides.pop("issued_on", date(2026, 2, 28))
    fields = {
        "debtor": debtor,
        "source_reference": f"CLM-{n:08d}",
        "payment_reference": payment_reference_make(n),
        "kind": ClaimKind.OZB,
        "regime": Regime.TAX,
        "principal": principal,
        "open_amount": principal,
        "issued_on": issued_on,
        "due_on": issued_on + timedelta(days=30),
    }
    fields.update(overrides)
    return Claim.objects.create(**fields)


def make_segment(**overrides) -> Segment:
    n = next_number()
    fields = {"name": f"Segment {n}", "purpose": "Test segment", "rules": [], "priority": 100}
    fields.update(overrides)
    return Segment.objects.create(**fields)


def make_template(**overrides) -> MessageTemplate:
    fields = {
        "step_kind": StepKind.REMINDER,
        "tone": Tone.FRIENDLY,
        "channel": Channel.EMAIL,
        "language": "nl",
        "subject": "Herinnering {{ claim_reference }}",
        "body": "Beste {{ salutation }}, u moet nog {{ open_amount }} betalen.",
    }
    fields.update(overrides)
    return MessageTemplate.objects.create(**fields)
