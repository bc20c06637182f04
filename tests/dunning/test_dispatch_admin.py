"""The outbox for clerks: read-only messages, today's overview, retry/cancel of failed ones, letter PDFs."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from dunning.models import Message
from dunning.services.dispatch import dispatch
from dunning.services.planning import plan
from tests.campaigns.personas import REMINDER_DAY, build_world, open_claim
from tests.conftest import PASSWORD
from tests.factories import make_debtor

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client, clerk):
    client.login(username=clerk.username, password=PASSWORD)
    return client


@pytest.fixture
def messages_world():
    world = build_world()
    letter = open_claim(make_debtor(email="", phone=""), world)
    failing = open_claim(make_debtor(), world)
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    Message.objects.filter(claim=failing).update(status=Message.Status.FAILED, last_error="ESP HTTP 401")
    return Message.objects.get(claim=letter), Message.objects.get(claim=failing)


def test_outbox_lists_and_shows_today(clerk_client, messages_world):
    response = clerk_client.get(reverse("admin:dunning_message_changelist"))
    assert response.status_code == 200
    assert 'id="outbox-today"' in response.content.decode()
    changelist = reverse("admin:dunning_message_changelist")
    for status in ("failed", "sent"):
        assert clerk_client.get(changelist, {"status__exact": status}).status_code == 200
    _letter, failed = messages_world
    assert clerk_client.get(reverse("admin:dunning_message_change", args=[failed.pk])).status_code == 200


def test_messages_cannot_be_added_or_edited(clerk_client, messages_world):
    _letter, failed = messages_world
    assert clerk_client.get(reverse("admin:dunning_message_add")).status_code == 403
    response = clerk_client.post(reverse("admin:dunning_message_change", args=[failed.pk]), {"body": "changed"})
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.body != "changed"


def test_clerk_retries_a_failed_message(clerk_client, messages_world):
    _letter, failed = messages_world
    response = clerk_client.post(
        reverse("admin:dunning_message_changelist"),
        {"action": "retry_failed", "_selected_action": [failed.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Message.Status.PLANNED and failed.attempts == 0


def test_clerk_cancels_a_failed_message(clerk_client, messages_world):
    _letter, failed = messages_world
    clerk_client.post(
        reverse("admin:dunning_message_changelist"),
        {"action": "cancel_messages", "_selected_action": [failed.pk]},
    )
    failed.refresh_from_db()
    assert failed.status == Message.Status.CANCELLED and failed.cancel_reason == "cancelled by clerk"


def test_letter_download_is_logged_as_access(clerk_client, messages_world):
    letter, _failed = messages_world
    response = clerk_client.get(reverse("letter-download", args=[letter.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(letter.pk)).exists()


def test_letter_download_needs_a_login(client, messages_world):
    letter, _failed = messages_world
    assert client.get(reverse("letter-download", args=[letter.pk])).status_code == 302
