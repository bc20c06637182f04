"""The planner: segment, tone, channel, template and send time; idempotent; bundles; escalations."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from campaigns.models import StepKind, Tone
from customers.models import Channel
from dunning.models import Claim, EscalationProposal, Message, Pause
from dunning.services.planning import plan
from tests.campaigns.personas import (
    REMINDER_DAY,
    at,
    build_world,
    care_debtor,
    chronic_debtor,
    open_claim,
    punctual_debtor,
)
from tests.factories import make_debtor, make_preference

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def only_message(claim) -> Message:
    return Message.objects.get(claim=claim)


def test_tone_differs_by_segment(world):
    punctual = open_claim(punctual_debtor(), world)
    chronic = open_claim(chronic_debtor(), world)
    care = open_claim(care_debtor(), world)
    newcomer = open_claim(make_debtor(), world)

    result = plan(now=REMINDER_DAY)

    assert result.planned == 4
    assert (only_message(punctual).segment, only_message(punctual).tone) == (world.on_time, Tone.FRIENDLY)
    assert (only_message(chronic).segment, only_message(chronic).tone) == (world.chronic, Tone.FORMAL)
    assert (only_message(care).segment, only_message(care).tone) == (world.care, Tone.EMPATHETIC)
    assert (only_message(newcomer).segment, only_message(newcomer).tone) == (world.default, Tone.NEUTRAL)
    assert only_message(punctual).segment_version == world.on_time.version


def test_chronic_override_channels_prefer_sms(world):
    claim = open_claim(chronic_debtor(), world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).channel == Channel.SMS


def test_care_flag_never_formal_even_in_a_formal_step(world):
    claim = open_claim(care_debtor(), world)
    Message.objects.create(
        claim=claim, step=world.reminder, channel="email", tone="empathetic", scheduled_for=REMINDER_DAY, status="sent"
    )
    Message.objects.create(
        claim=claim, step=world.formal, channel="email", tone="empathetic", scheduled_for=REMINDER_DAY, status="sent"
    )
    plan(now=at(2026, 5, 12))
    message = Message.objects.get(claim=claim, step=world.escalation)
    assert message.tone == Tone.EMPATHETIC  # the step's default tone is formal


def test_stated_sms_preference_gets_sms(world):
    debtor = punctual_debtor()
    make_preference(debtor, preferred_channels=["sms", "email"])
    claim = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).channel == Channel.SMS


def test_opt_out_is_respected(world):
    debtor = punctual_debtor()
    make_preference(debtor, preferred_channels=["sms", "email"], sms_opt_out=True, email_opt_out=True)
    claim = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).channel == Channel.LETTER


def test_no_digital_contact_gets_a_letter(world):
    claim = open_claim(make_debtor(email="", phone=""), world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).channel == Channel.LETTER


def test_invalid_email_skips_to_next_channel(world):
    claim = open_claim(make_debtor(email_invalid_since=REMINDER_DAY), world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).channel == Channel.SMS


def test_language_falls_back_to_dutch(world):
    english = open_claim(make_debtor(language="en"), world)
    plan(now=REMINDER_DAY)
    message = only_message(english)
    assert message.language == "en"
    assert message.template.language == "en"  # the English neutral e-mail exists
    sms_claim = open_claim(make_debtor(language="en", email=""), world)
    plan(now=REMINDER_DAY)
    assert only_message(sms_claim).template.language == "nl"  # no English SMS: Dutch


def test_not_due_yet_and_paused_and_paid_claims_get_nothing(world):
    early = open_claim(make_debtor(), world)
    paused = open_claim(make_debtor(), world)
    Pause.objects.create(claim=paused, reason=Pause.Reason.OBJECTION, starts_at=at(2026, 4, 1))
    debtor_paused = open_claim(make_debtor(), world)
    Pause.objects.create(debtor=debtor_paused.debtor, reason=Pause.Reason.DEBT_ASSISTANCE, starts_at=at(2026, 4, 1))
    paid = open_claim(make_debtor(), world, status=Claim.Status.PAID, open_amount=Decimal("0"))

    plan(now=at(2026, 4, 1))  # due + 2 days: the +3 reminder is not due yet
    assert not Message.objects.filter(claim=early).exists()

    plan(now=REMINDER_DAY)
    assert Message.objects.filter(claim=early).count() == 1
    assert not Message.objects.filter(claim__in=[paused, debtor_paused, paid]).exists()


def test_schedule_shift_delays_the_step(world):
    claim = open_claim(make_debtor(), world, schedule_shift_days=10)
    plan(now=REMINDER_DAY)
    assert not Message.objects.filter(claim=claim).exists()
    plan(now=at(2026, 4, 13))
    assert Message.objects.filter(claim=claim).count() == 1


def test_running_twice_or_late_never_duplicates(world):
    claims = [open_claim(make_debtor(), world) for _ in range(5)]
    first = plan(now=REMINDER_DAY)
    second = plan(now=REMINDER_DAY)
    late = plan(now=at(2026, 4, 5))
    assert first.planned == 5
    assert second.planned == 0 and late.planned == 0
    assert Message.objects.filter(claim__in=claims).count() == 5


def test_next_step_only_after_previous_handled_and_with_the_policy_gap(world):
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    message = only_message(claim)
    plan(now=at(2026, 4, 20))  # formal step (+14) due, but the reminder is still planned
    assert Message.objects.filter(claim=claim).count() == 1
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENT, sent_at=REMINDER_DAY)
    plan(now=at(2026, 4, 20))
    assert Message.objects.filter(claim=claim, step=world.formal).count() == 1


def test_several_claims_of_one_debtor_go_in_one_message(world):
    debtor = make_debtor()
    first, second, third = (open_claim(debtor, world) for _ in range(3))
    result = plan(now=REMINDER_DAY)
    assert result.planned == 1 and result.bundled == 2
    head = Message.objects.get(claim=first)
    assert head.status == Message.Status.PLANNED
    for claim in (second, third):
        follower = Message.objects.get(claim=claim)
        assert follower.status == Message.Status.BUNDLED
        assert follower.bundled_into == head


def test_bundles_are_not_split_across_pages(world):
    debtors = [make_debtor() for _ in range(3)]
    for debtor in debtors:
        open_claim(debtor, world)
        open_claim(debtor, world)
    result = plan(now=REMINDER_DAY, batch_size=3)
    assert result.planned == 3 and result.bundled == 3


def test_escalation_becomes_a_proposal_awaiting_approval(world):
    debtor = care_debtor()
    claim = open_claim(debtor, world)
    for step in (world.reminder, world.formal):
        Message.objects.create(
            claim=claim, step=step, channel="email", tone="neutral", scheduled_for=REMINDER_DAY, status="sent"
        )
    result = plan(now=at(2026, 5, 12))
    message = Message.objects.get(claim=claim, step=world.escalation)
    assert message.status == Message.Status.AWAITING_APPROVAL
    proposal = EscalationProposal.objects.get(claim=claim)
    assert proposal.message == message
    assert proposal.status == EscalationProposal.Status.PENDING
    assert proposal.needs_second_approval  # care flag
    assert result.awaiting_approval == 1
    plan(now=at(2026, 5, 13))
    assert EscalationProposal.objects.filter(claim=claim).count() == 1


def test_segment_version_is_recorded(world):
    from campaigns.services import segment_update

    segment_update(segment=world.on_time, rules=[{"attribute": "on_time_share_24m", "operator": "gte", "value": 0.8}])
    claim = open_claim(punctual_debtor(), world)
    plan(now=REMINDER_DAY)
    assert only_message(claim).segment_version == 2


def test_scheduled_in_the_channel_window(world):
    claim = open_claim(make_debtor(), world)
    plan(now=at(2026, 4, 2, 22, 30))  # after the e-mail window; Friday 3 April 2026 is Good Friday
    assert only_message(claim).scheduled_for == at(2026, 4, 4, 8, 0)


def test_command_prints_counts(world, capsys):
    open_claim(make_debtor(), world)
    call_command("dunning_plan", "--now", "2026-04-02T10:00:00+02:00")
    assert "planned=1" in capsys.readouterr().out


def test_step_kinds_use_their_templates(world):
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    message = only_message(claim)
    assert message.template.step_kind == StepKind.REMINDER
    assert message.template_version == message.template.version
