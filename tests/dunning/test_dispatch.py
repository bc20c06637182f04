"""The dispatcher: sends what is due exactly once, re-checks the claim, retries, never re-sends blindly."""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from customers.models import Channel
from dunning.channels.base import PermanentChannelError, TransientChannelError
from dunning.channels.sms import InMemorySMSBackend
from dunning.models import Claim, Message, Pause
from dunning.services.dispatch import STALE_ERROR, dispatch, message_retry
from dunning.services.planning import plan
from tests.campaigns.personas import REMINDER_DAY, at, build_world, open_claim, punctual_debtor
from tests.factories import make_debtor, make_preference


@pytest.fixture(autouse=True)
def anymail_backend(settings):
    # Django's test set-up swaps EMAIL_BACKEND for locmem; put anymail's test backend (settings_test) back.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def sms_outbox():
    InMemorySMSBackend.reset()
    yield InMemorySMSBackend.outbox
    InMemorySMSBackend.reset()


@pytest.fixture
def world(db):
    return build_world()


def sent_count() -> int:
    return len(mail.outbox) + len(InMemorySMSBackend.outbox)


@pytest.mark.django_db
def test_email_leaves_with_provider_id_cost_and_rendered_text(world):
    claim = open_claim(make_debtor(given_name="Anna", surname="de Boer"), world)
    plan(now=REMINDER_DAY)
    result = dispatch(now=REMINDER_DAY)
    assert result.sent == 1
    message = Message.objects.get(claim=claim)
    assert message.status == Message.Status.SENT
    assert message.provider_id and message.sent_at == REMINDER_DAY
    assert message.cost == Decimal("0.0010")  # e-mail: a tenth of a cent, kept to four places
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [claim.debtor.email]
    assert "Anna de Boer" in email.body and "€ 125,00" in email.body
    assert str(email.anymail_status.message_id) == message.provider_id
    assert message.body == email.body.strip()


@pytest.mark.django_db
def test_stated_sms_preference_leaves_as_sms(world, sms_outbox):
    debtor = make_debtor()
    make_preference(debtor, preferred_channels=["sms"])
    claim = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    assert [sms.to for sms in sms_outbox] == [debtor.phone]
    message = Message.objects.get(claim=claim)
    assert message.channel == Channel.SMS and message.cost == Decimal("0.07")
    assert not mail.outbox


@pytest.mark.django_db
def test_letter_fallback_pdf_contains_reference_and_amount(world):
    claim = open_claim(make_debtor(email="", phone=""), world, principal=Decimal("1234.56"))
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert message.channel == Channel.LETTER and message.status == Message.Status.SENT
    with message.document.open("rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    grouped = " ".join(claim.payment_reference[i : i + 4] for i in range(0, 16, 4))
    assert grouped in text
    assert "€ 1.234,56" in text
    assert "Gemeente Voorbeeld" in text
    assert "DORPSSTRAAT" in text.upper()


@pytest.mark.django_db
def test_plan_and_dispatch_twice_sends_nothing_twice(world):
    for _ in range(3):
        open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    plan(now=REMINDER_DAY + timedelta(hours=1))
    dispatch(now=REMINDER_DAY + timedelta(hours=1))
    assert sent_count() == 3
    assert Message.objects.filter(status=Message.Status.SENT).count() == 3


@pytest.mark.django_db
def test_bundle_goes_out_as_one_message_listing_all_claims(world):
    debtor = make_debtor()
    claims = [open_claim(debtor, world) for _ in range(3)]
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    for claim in claims:
        assert " ".join(claim.payment_reference[i : i + 4] for i in range(0, 16, 4)) in body
    assert "€ 375,00" in body  # 3 x 125
    assert Message.objects.filter(status=Message.Status.BUNDLED, sent_at=REMINDER_DAY).count() == 2


@pytest.mark.django_db
def test_paid_between_planning_and_sending_is_cancelled(world):
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    Claim.objects.filter(pk=claim.pk).update(status=Claim.Status.PAID, open_amount=0)
    result = dispatch(now=REMINDER_DAY)
    assert result.cancelled == 1 and not mail.outbox
    message = Message.objects.get(claim=claim)
    assert (message.status, message.cancel_reason) == (Message.Status.CANCELLED, "paid")


@pytest.mark.django_db
def test_paused_after_planning_is_cancelled(world):
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    Pause.objects.create(debtor=claim.debtor, reason=Pause.Reason.DEBT_ASSISTANCE, starts_at=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    assert Message.objects.get(claim=claim).cancel_reason == "paused"
    assert not mail.outbox


@pytest.mark.django_db
def test_bundled_claim_paid_is_left_out_and_head_paid_releases_the_rest(world):
    debtor = make_debtor()
    first, second = open_claim(debtor, world), open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    Claim.objects.filter(pk=first.pk).update(status=Claim.Status.PAID, open_amount=0)
    dispatch(now=REMINDER_DAY)  # head cancelled; the follower is released ...
    assert Message.objects.get(claim=first).status == Message.Status.CANCELLED
    dispatch(now=REMINDER_DAY)  # ... and goes out on its own
    assert Message.objects.get(claim=second).status == Message.Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_provider_error_is_retried_with_backoff_then_failed(world, sms_outbox, settings):
    settings.DISPATCH_MAX_ATTEMPTS = 2
    debtor = make_debtor()
    make_preference(debtor, preferred_channels=["sms"])
    claim = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    InMemorySMSBackend.fail_next.extend([TransientChannelError("CM.com HTTP 503"), TransientChannelError("again")])
    first = dispatch(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert first.retried == 1
    assert message.status == Message.Status.PLANNED and message.attempts == 1
    assert message.last_error == "CM.com HTTP 503"
    assert message.scheduled_for == REMINDER_DAY + timedelta(minutes=5)
    assert dispatch(now=REMINDER_DAY + timedelta(minutes=1)).claimed == 0  # backoff respected
    second = dispatch(now=REMINDER_DAY + timedelta(minutes=6))
    message.refresh_from_db()
    assert second.failed == 1 and message.status == Message.Status.FAILED and message.attempts == 2
    assert not sms_outbox
    assert message_retry(message=message, now=REMINDER_DAY + timedelta(minutes=10))
    dispatch(now=REMINDER_DAY + timedelta(minutes=10))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and len(sms_outbox) == 1


@pytest.mark.django_db
def test_permanent_invalid_number_marks_it_and_falls_back(world, sms_outbox):
    debtor = make_debtor()
    make_preference(debtor, preferred_channels=["sms"])
    claim = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    InMemorySMSBackend.fail_next.append(PermanentChannelError("CM.com error 303", invalid_recipient=True))
    dispatch(now=REMINDER_DAY)
    failed = Message.objects.get(claim=claim, fallback_for__isnull=True)
    assert failed.status == Message.Status.FAILED
    debtor.refresh_from_db()
    assert debtor.phone_invalid_since is not None
    fallback = Message.objects.get(fallback_for=failed)
    assert fallback.channel == Channel.EMAIL


@pytest.mark.django_db
def test_a_message_left_sending_is_never_resent_blindly(world):
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    Message.objects.filter(claim=claim).update(
        status=Message.Status.SENDING, sending_since=timezone.now() - timedelta(hours=2), attempts=1
    )
    result = dispatch(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert result.stale_failed == 1 and result.sent == 0
    assert message.status == Message.Status.FAILED and message.last_error == STALE_ERROR
    assert not mail.outbox


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [at(2026, 4, 5, 12), at(2025, 4, 26, 12), at(2026, 4, 27, 12)],
    ids=["sunday", "kings-day-2025-on-the-26th", "kings-day-2026"],
)
def test_nothing_is_sent_on_sunday_or_kings_day(world, moment):
    claim = open_claim(make_debtor(email="", phone=""), world)
    Message.objects.create(
        claim=claim, step=world.reminder, channel="letter", tone="neutral", scheduled_for=moment - timedelta(days=2)
    )
    for channel_debtor in (make_debtor(), make_debtor(email="")):
        other = open_claim(channel_debtor, world)
        Message.objects.create(
            claim=other,
            step=world.reminder,
            channel="email" if channel_debtor.email else "sms",
            tone="neutral",
            scheduled_for=moment - timedelta(days=2),
        )
    for hour in range(0, 24):
        assert dispatch(now=moment.replace(hour=hour)).claimed == 0
    assert Message.objects.filter(status=Message.Status.PLANNED).count() == 3


@pytest.mark.django_db
def test_command_prints_counts(world, capsys):
    open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    call_command("dunning_dispatch", "--now", "2026-04-02T10:00:00+02:00")
    assert "sent=1" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_in_parallel_send_every_message_exactly_once():
    world = build_world()
    claims = [open_claim(punctual_debtor(email="", phone=""), world) for _ in range(4)]
    claims += [open_claim(make_debtor(), world) for _ in range(36)]
    plan(now=REMINDER_DAY)
    assert Message.objects.filter(status=Message.Status.PLANNED).count() == 40
    mail.outbox = []
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            dispatch(now=REMINDER_DAY, batch_size=3)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert Message.objects.filter(status=Message.Status.SENT).count() == 40
    # every e-mail left exactly once: one outbox entry per message, each with a distinct recipient
    recipients = [to for email in mail.outbox for to in email.to]
    assert len(recipients) == 36 and len(set(recipients)) == 36
    assert Message.objects.filter(channel="letter", status=Message.Status.SENT).exclude(document="").count() == 4


@pytest.mark.django_db
def test_sent_messages_are_audited_per_message_masked_and_tagged_with_the_debtor(world):
    """The chunked dispatcher writes the audit entries in one INSERT; they read as `message.save()` wrote them."""
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from django.contrib.auth import get_user_model

    robot = get_user_model().objects.create(username="dispatch-robot")
    claims = [open_claim(make_debtor(given_name="Anna", surname=f"Audit{i}"), world) for i in range(3)]
    plan(now=REMINDER_DAY)
    with set_actor(robot):
        assert dispatch(now=REMINDER_DAY).sent == 3
    for claim in claims:
        message = Message.objects.get(claim=claim)
        entry = LogEntry.objects.get_for_object(message).get(action=LogEntry.Action.UPDATE)
        assert entry.changes["status"] == ["sending", "sent"]
        assert entry.changes["recipient"] == ["", "******"]  # masked, never the address
        assert "body" not in entry.changes
        assert entry.additional_data == {"debtor_id": claim.debtor_id}
        assert entry.object_repr == f"dunning.message #{message.pk}"
        assert entry.actor == robot


@pytest.mark.django_db
def test_one_chunk_with_sent_cancelled_and_failed_messages(world, sms_outbox, settings):
    settings.DISPATCH_CHUNK_SIZE = 10
    ok = open_claim(make_debtor(), world)
    paid = open_claim(make_debtor(), world)
    paused = open_claim(make_debtor(), world)
    sms_debtor = make_debtor()
    make_preference(sms_debtor, preferred_channels=["sms"])
    failing = open_claim(sms_debtor, world)
    plan(now=REMINDER_DAY)
    Claim.objects.filter(pk=paid.pk).update(status=Claim.Status.PAID, open_amount=0)
    Pause.objects.create(debtor=paused.debtor, reason=Pause.Reason.DEBT_ASSISTANCE, starts_at=REMINDER_DAY)
    InMemorySMSBackend.fail_next.append(TransientChannelError("provider down"))
    result = dispatch(now=REMINDER_DAY)
    assert (result.claimed, result.sent, result.cancelled, result.retried) == (4, 1, 2, 1)
    assert Message.objects.get(claim=ok).status == Message.Status.SENT
    assert Message.objects.get(claim=paid).cancel_reason == "paid"
    assert Message.objects.get(claim=paused).cancel_reason == "paused"
    retried = Message.objects.get(claim=failing)
    assert retried.status == Message.Status.PLANNED and retried.last_error == "provider down"


@pytest.mark.django_db
def test_a_database_error_while_rendering_one_message_fails_only_that_message(world, monkeypatch):
    """The per-message savepoint: on PostgreSQL a failed query would otherwise abort the whole chunk."""
    from dunning.services import dispatch as dispatch_module

    claims = [open_claim(make_debtor(), world) for _ in range(3)]
    plan(now=REMINDER_DAY)
    bad = Message.objects.get(claim=claims[1]).pk
    real_render = dispatch_module.message_render

    def render(*, message, claims, now):
        if message.pk == bad:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table_here")
        return real_render(message=message, claims=claims, now=now)

    monkeypatch.setattr(dispatch_module, "message_render", render)
    result = dispatch(now=REMINDER_DAY)
    assert (result.sent, result.retried) == (2, 1)
    assert Message.objects.get(pk=bad).status == Message.Status.PLANNED
    assert Message.objects.filter(status=Message.Status.SENT).count() == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_pause_set_while_the_run_is_under_way_stops_the_sends_still_to_come(world):
    import time

    from dunning.services.dispatch import DispatchResult, _Costs, messages_claim, messages_send

    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    ids = messages_claim(now=REMINDER_DAY, batch_size=10)
    # The run began at REMINDER_DAY; two minutes into it a clerk pauses the debtor (death, debt help).
    Pause.objects.create(
        debtor=claim.debtor, reason=Pause.Reason.DECEASED, starts_at=REMINDER_DAY + timedelta(minutes=2)
    )
    messages_send(
        message_ids=ids,
        now=REMINDER_DAY,
        costs=_Costs(REMINDER_DAY.date()),
        result=DispatchResult(),
        clock_start=time.monotonic() - 180,  # the chunk's locks are taken three minutes into the run
    )
    assert Message.objects.get(claim=claim).cancel_reason == "paused"
    assert not mail.outbox


@pytest.mark.django_db
def test_a_run_out_of_time_plans_what_it_did_not_start_again_without_counting_an_attempt(world):
    claims = [open_claim(make_debtor(), world) for _ in range(3)]
    plan(now=REMINDER_DAY)
    result = dispatch(now=REMINDER_DAY, time_budget_seconds=-1)
    assert (result.claimed, result.sent, result.deferred) == (3, 0, 3)
    for message in Message.objects.filter(claim__in=claims):
        assert (message.status, message.attempts, message.sending_since) == (Message.Status.PLANNED, 0, None)
    assert dispatch(now=REMINDER_DAY).sent == 3


@pytest.mark.django_db
def test_a_follower_that_joined_a_head_already_sent_is_released_and_sent_alone(world):
    debtor = make_debtor()
    open_claim(debtor, world)
    second = open_claim(debtor, world)
    plan(now=REMINDER_DAY)
    follower = Message.objects.get(claim=second)
    head = follower.bundled_into
    # The planner inserted the follower after the dispatcher had read the head's followers.
    Message.objects.filter(pk=follower.pk).update(bundled_into=None, status=Message.Status.PLANNED)
    Message.objects.filter(pk=follower.pk).update(scheduled_for=REMINDER_DAY + timedelta(days=30))
    dispatch(now=REMINDER_DAY)
    Message.objects.filter(pk=follower.pk).update(
        bundled_into=head, status=Message.Status.BUNDLED, scheduled_for=REMINDER_DAY
    )
    assert Message.objects.get(pk=head.pk).status == Message.Status.SENT
    result = dispatch(now=REMINDER_DAY)
    assert result.bundles_released == 1
    follower.refresh_from_db()
    assert follower.status == Message.Status.SENT and follower.bundled_into is None
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_an_error_while_recording_one_failure_does_not_abandon_the_batch(world, sms_outbox, monkeypatch, settings):
    from dunning.services import dispatch as dispatch_module

    failing, fine = make_debtor(), make_debtor()
    for debtor in (failing, fine):
        make_preference(debtor, preferred_channels=["sms"])
    open_claim(failing, world)
    open_claim(fine, world)
    plan(now=REMINDER_DAY)
    InMemorySMSBackend.fail_next.append(TransientChannelError("provider down"))  # the first send fails
    monkeypatch.setattr(dispatch_module, "_failure", lambda *args: (_ for _ in ()).throw(RuntimeError("db gone")))
    settings.DISPATCH_CHUNK_SIZE = 1
    dispatch(now=REMINDER_DAY)  # recording the first one's failure raises; the second still goes
    # The failed one stays unrecorded (SENDING: the stale rule surfaces it for review); the other was sent.
    assert sorted(Message.objects.values_list("status", flat=True)) == [Message.Status.SENDING, Message.Status.SENT]
