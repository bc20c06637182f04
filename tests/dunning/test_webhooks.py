"""ESP tracking webhooks (anymail) with the real Brevo and Mailjet payloads: events recorded, bounces handled."""

import base64
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from customers.models import Channel
from dunning.models import DeliveryEvent, Message
from dunning.services.dispatch import dispatch
from dunning.services.planning import plan
from tests.campaigns.personas import REMINDER_DAY, build_world, open_claim
from tests.factories import make_debtor

REAL = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "real" / "esp_webhooks"
BREVO_ID = "<201803011158.9876543210@smtp-relay.mailin.fr>"
MAILJET_ID = "13792286917004336"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_payloads():
    if not REAL.is_dir():
        pytest.skip(f"real ESP payloads not available at {REAL}")


@pytest.fixture
def world():
    return build_world()


def post(client, esp: str, name: str, *, auth: str = "esp:test-secret"):
    body = (REAL / esp / name).read_bytes()
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()}
    return client.post(f"/anymail/{esp}/tracking/", data=body, content_type="application/json", **headers)


def sent_message(world, provider_id: str, **debtor) -> Message:
    claim = open_claim(make_debtor(**debtor), world)
    plan(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENT, sent_at=REMINDER_DAY, provider_id=provider_id
    )
    message.refresh_from_db()
    return message


def test_brevo_delivered_is_recorded(client, world):
    message = sent_message(world, BREVO_ID)
    response = post(client, "brevo", "delivered.json")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and message.delivered_at is not None
    assert list(message.events.values_list("kind", flat=True)) == [DeliveryEvent.Kind.DELIVERED]
    post(client, "brevo", "delivered.json")  # the ESP retries: no second event
    assert message.events.count() == 1


@pytest.mark.parametrize(
    ("name", "kind", "field"),
    [
        ("opened.json", DeliveryEvent.Kind.OPENED, "opened_at"),
        ("clicked.json", DeliveryEvent.Kind.CLICKED, "clicked_at"),
        ("complained.json", DeliveryEvent.Kind.COMPLAINED, None),
    ],
)
def test_brevo_events_by_kind(client, world, name, kind, field):
    payload = json.loads((REAL / "brevo" / name).read_text())
    message = sent_message(world, payload["message-id"])
    assert post(client, "brevo", name).status_code == 200
    message.refresh_from_db()
    assert message.events.get().kind == kind
    if field:
        assert getattr(message, field) is not None


def test_hard_bounce_marks_the_address_and_moves_the_step_to_the_next_channel(client, world):
    message = sent_message(world, BREVO_ID)
    assert post(client, "brevo", "bounced_hard.json").status_code == 200
    message.refresh_from_db()
    assert message.status == Message.Status.BOUNCED
    assert message.events.get().is_hard_bounce
    debtor = message.claim.debtor
    debtor.refresh_from_db()
    assert debtor.email_invalid_since is not None
    fallback = Message.objects.get(fallback_for=message)
    assert (fallback.step, fallback.channel, fallback.status) == (message.step, Channel.SMS, Message.Status.PLANNED)
    post(client, "brevo", "bounced_hard.json")  # repeated webhook: still one fallback
    assert Message.objects.filter(fallback_for=message).count() == 1


def test_soft_bounce_changes_nothing_but_the_timeline(client, world):
    payload = json.loads((REAL / "brevo" / "bounced_soft.json").read_text())
    message = sent_message(world, payload["message-id"])
    post(client, "brevo", "bounced_soft.json")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert not Message.objects.filter(fallback_for=message).exists()
    assert message.claim.debtor.email_invalid_since is None


def test_mailjet_hard_bounce_without_phone_falls_back_to_a_letter(client, world):
    message = sent_message(world, MAILJET_ID, phone="")
    assert post(client, "mailjet", "bounced_hard.json").status_code == 200
    fallback = Message.objects.get(fallback_for=message)
    assert fallback.channel == Channel.LETTER


def test_mailjet_grouped_batch_and_greylisting(client, world):
    first = sent_message(world, "19421777835146490")
    second = sent_message(world, "19421777835146491")
    assert post(client, "mailjet", "grouped_sent_batch.json").status_code == 200
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED
    greylisted = json.loads((REAL / "mailjet" / "bounced_soft_greylisted.json").read_text())[0]
    third = sent_message(world, str(greylisted["MessageID"]))
    post(client, "mailjet", "bounced_soft_greylisted.json")
    assert third.events.get().kind == DeliveryEvent.Kind.DEFERRED
    assert not Message.objects.filter(fallback_for=third).exists()


def test_wrong_credentials_are_refused(client, world):
    message = sent_message(world, BREVO_ID)
    response = post(client, "brevo", "bounced_hard.json", auth="esp:wrong")
    assert response.status_code == 400
    assert not message.events.exists()


def test_unknown_message_is_ignored(client, world):
    assert post(client, "brevo", "delivered.json").status_code == 200
    assert not DeliveryEvent.objects.exists()


def test_bounce_after_a_real_send_reaches_the_fallback_channel(client, world, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    claim = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    message = Message.objects.get(claim=claim)
    assert len(mail.outbox) == 1
    Message.objects.filter(pk=message.pk).update(provider_id=BREVO_ID)  # as the ESP would have answered
    post(client, "brevo", "bounced_hard.json")
    from dunning.channels.sms import InMemorySMSBackend

    InMemorySMSBackend.reset()
    fallback = Message.objects.get(fallback_for=message)
    dispatch(now=fallback.scheduled_for)  # planned in the next SMS window after the webhook arrived
    assert [sms.to for sms in InMemorySMSBackend.outbox] == [claim.debtor.phone]
