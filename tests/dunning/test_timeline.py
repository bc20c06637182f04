from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Tone
from dunning.models import DeliveryEvent, EscalationProposal, Message, Pause, Payment
from dunning.selectors.timeline import claim_timeline
from tests.factories import make_claim, make_policy, make_segment

pytestmark = pytest.mark.django_db


def _moment(days: int):
    return timezone.now().replace(microsecond=0) - timedelta(days=100 - days)


def test_it_merges_messages_payments_pauses_and_proposals_in_time_order():
    policy = make_policy()
    steps = list(policy.steps.order_by("order"))
    claim = make_claim(policy=policy)
    segment = make_segment(name="Soms te laat")
    reminder = Message.objects.create(
        claim=claim,
        step=steps[0],
        channel="email",
        tone=Tone.FRIENDLY,
        segment=segment,
        scheduled_for=_moment(10),
        sent_at=_moment(10),
        status=Message.Status.DELIVERED,
    )
    DeliveryEvent.objects.create(message=reminder, kind=DeliveryEvent.Kind.DELIVERED, occurred_at=_moment(11))
    Pause.objects.create(claim=claim, reason=Pause.Reason.OBJECTION, starts_at=_moment(20), ends_at=_moment(30))
    Pause.objects.create(debtor=claim.debtor, reason=Pause.Reason.DEBT_ASSISTANCE, starts_at=_moment(25))
    EscalationProposal.objects.create(claim=claim, step=steps[3], created_at=_moment(40))
    Payment.objects.create(source="api", external_id="p-1", amount=Decimal("10.00"), paid_at=_moment(50), claim=claim)
    # Someone else's pause must not appear.
    Pause.objects.create(debtor=make_claim().debtor, reason=Pause.Reason.OTHER, starts_at=_moment(26))

    entries = claim_timeline(claim=claim)

    kinds = [entry.kind for entry in entries if entry.kind not in ("issued", "due")]
    assert kinds == ["message", "pause", "pause", "proposal", "payment"]
    assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
    message_entry = next(entry for entry in entries if entry.kind == "message")
    assert dict((str(k), str(v)) for k, v in message_entry.details)["segment"] == "Soms te laat"
    assert [event.kind for event in message_entry.events] == [DeliveryEvent.Kind.DELIVERED]


def test_it_needs_the_same_number_of_queries_for_a_long_history(django_assert_max_num_queries):
    policy = make_policy()
    step = policy.steps.first()
    claim = make_claim(policy=policy)
    for day in range(30):
        message = Message.objects.create(
            claim=claim,
            step=step,
            channel="email",
            tone=Tone.NEUTRAL,
            segment=make_segment(),
            scheduled_for=_moment(day),
            # Only one row may hold (claim, step) without a fallback: chain the rest as fallbacks.
            fallback_for=Message.objects.filter(claim=claim).order_by("-id").first(),
        )
        DeliveryEvent.objects.create(message=message, kind=DeliveryEvent.Kind.SENT, occurred_at=_moment(day))
        Payment.objects.create(source="api", external_id=f"x{day}", amount=1, paid_at=_moment(day), claim=claim)

    with django_assert_max_num_queries(6):
        entries = claim_timeline(claim=claim)
    assert len(entries) == 2 + 30 + 30
