"""Ending a claim from the admin: cancel and write off go through services, confirm first, stop reminders."""

from datetime import timedelta

import pytest
from auditlog.context import set_actor
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Tone
from dunning.models import Claim, EscalationProposal, Message
from dunning.services.claims import ClaimStatusError, claim_cancel, claim_write_off
from tests.factories import make_claim, make_policy

CHANGELIST = reverse("admin:dunning_claim_changelist")


def _claim_with_pending_work():
    policy = make_policy()
    steps = list(policy.steps.order_by("order"))
    claim = make_claim(policy=policy)
    sent = Message.objects.create(
        claim=claim,
        step=steps[0],
        channel="email",
        tone=Tone.FRIENDLY,
        scheduled_for=timezone.now(),
        status=Message.Status.SENT,
    )
    planned = Message.objects.create(
        claim=claim,
        step=steps[1],
        channel="email",
        tone=Tone.NEUTRAL,
        scheduled_for=timezone.now() + timedelta(days=3),
    )
    awaiting = Message.objects.create(
        claim=claim,
        step=steps[3],
        channel="letter",
        tone=Tone.FORMAL,
        scheduled_for=timezone.now() + timedelta(days=30),
        status=Message.Status.AWAITING_APPROVAL,
    )
    proposal = EscalationProposal.objects.create(claim=claim, step=steps[3], message=awaiting)
    return claim, sent, planned, awaiting, proposal


@pytest.mark.django_db
def test_writing_off_stops_pending_messages_and_withdraws_proposals():
    claim, sent, planned, awaiting, proposal = _claim_with_pending_work()
    now = timezone.now()

    result = claim_write_off(claim=claim, now=now)

    assert result.changed and result.messages_cancelled == 2 and result.proposals_withdrawn == 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.WRITTEN_OFF and claim.settled_at == now
    for message in (planned, awaiting):
        message.refresh_from_db()
        assert message.status == Message.Status.CANCELLED
        assert message.cancel_reason == "claim_written_off"
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT
    proposal.refresh_from_db()
    assert proposal.status == EscalationProposal.Status.WITHDRAWN


@pytest.mark.django_db
def test_cancelling_twice_changes_nothing_the_second_time():
    claim = make_claim()
    assert claim_cancel(claim=claim).changed
    assert not claim_cancel(claim=claim).changed


@pytest.mark.django_db
def test_a_paid_claim_cannot_be_written_off():
    claim = make_claim(status=Claim.Status.PAID, open_amount=0)
    with pytest.raises(ClaimStatusError):
        claim_write_off(claim=claim)


@pytest.mark.django_db
def test_the_audit_trail_names_the_actor_when_auditlog_tracks_claims(clerk):
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog

    claim = make_claim()
    was_registered = auditlog.contains(Claim)
    if not was_registered:
        auditlog.register(Claim)
    try:
        claim_cancel(claim=claim, actor=clerk)
        # Inside an existing actor context (a request, a job) the outer actor stays.
        other = make_claim()
        with set_actor(clerk):
            claim_cancel(claim=other, actor=None)
    finally:
        if not was_registered:
            auditlog.unregister(Claim)
    entries = LogEntry.objects.get_for_object(claim).filter(action=LogEntry.Action.UPDATE)
    assert entries.exists() and all(entry.actor == clerk for entry in entries)
    assert LogEntry.objects.get_for_object(other).filter(actor=clerk).exists()


@pytest.mark.django_db
def test_the_cancel_action_asks_for_confirmation_first(client, clerk):
    claim, *_ = _claim_with_pending_work()
    client.force_login(clerk)
    response = client.post(CHANGELIST, {"action": "cancel_claims", "_selected_action": [claim.pk]})
    assert response.status_code == 200
    assert b'name="confirm"' in response.content
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "status"), [("cancel_claims", Claim.Status.CANCELLED), ("write_off_claims", Claim.Status.WRITTEN_OFF)]
)
def test_a_confirmed_action_ends_the_selected_claims(client, clerk, action, status):
    claim, _, planned, *_ = _claim_with_pending_work()
    paid = make_claim(status=Claim.Status.PAID, open_amount=0)
    untouched = make_claim()
    client.force_login(clerk)
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [claim.pk, paid.pk], "confirm": "yes"}, follow=True
    )
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert len(texts) == 2  # one done, one skipped (already paid)
    claim.refresh_from_db()
    paid.refresh_from_db()
    untouched.refresh_from_db()
    planned.refresh_from_db()
    assert claim.status == status
    assert paid.status == Claim.Status.PAID
    assert untouched.status == Claim.Status.OPEN
    assert planned.status == Message.Status.CANCELLED


@pytest.mark.django_db
def test_a_compliance_officer_has_no_claim_actions(client, compliance_officer):
    claim = make_claim()
    client.force_login(compliance_officer)
    response = client.post(CHANGELIST, {"action": "write_off_claims", "_selected_action": [claim.pk], "confirm": "yes"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN
    assert response.status_code in (200, 302)
