"""Channels: channel choice, CM.com SMS with its errors mapped, letters and the daily print batch."""

import csv
import io

import pytest
import responses
from django.core.files.storage import default_storage
from pypdf import PdfReader

from customers.models import Channel
from dunning.channels.base import PermanentChannelError, TransientChannelError
from dunning.channels.choice import choose_channel
from dunning.channels.letters import print_batch_create
from dunning.channels.sms import CMSMSBackend
from dunning.models import Message
from dunning.services.dispatch import dispatch
from dunning.services.planning import plan
from tests.campaigns.personas import REMINDER_DAY, build_world, open_claim
from tests.factories import make_debtor, make_preference

CM_URL = "https://gw.messaging.cm.com/v1.0/message"


@pytest.mark.django_db
class TestChoice:
    def test_preference_first_then_step_order(self):
        debtor = make_debtor()
        preference = make_preference(debtor, preferred_channels=["sms"])
        assert choose_channel(debtor=debtor, preference=preference, allowed=["email", "sms"]) == Channel.SMS
        assert choose_channel(debtor=debtor, preference=None, allowed=["email", "sms"]) == Channel.EMAIL

    def test_preference_outside_the_step_is_not_used(self):
        debtor = make_debtor()
        preference = make_preference(debtor, preferred_channels=["sms"])
        assert choose_channel(debtor=debtor, preference=preference, allowed=["email", "letter"]) == Channel.EMAIL

    def test_opt_out_invalid_and_missing_contact_are_skipped(self):
        debtor = make_debtor(phone="")
        preference = make_preference(debtor, preferred_channels=["sms", "email"], email_opt_out=True)
        assert choose_channel(debtor=debtor, preference=preference, allowed=["sms", "email"]) == Channel.LETTER

    def test_letter_when_nothing_digital_even_for_a_digital_only_step(self):
        debtor = make_debtor(email="", phone="")
        assert choose_channel(debtor=debtor, preference=None, allowed=["email", "sms"]) == Channel.LETTER

    def test_exclude_for_bounce_fallback(self):
        debtor = make_debtor()
        assert choose_channel(debtor=debtor, preference=None, allowed=["email", "sms"], exclude={"email"}) == "sms"


class TestCMSMS:
    @pytest.fixture(autouse=True)
    def token(self, settings):
        settings.SMS_CM_PRODUCT_TOKEN = "00000000-0000-0000-0000-000000000000"
        settings.SMS_CM_URL = CM_URL

    @responses.activate
    def test_accepted(self):
        responses.post(
            CM_URL,
            json={
                "details": "Created 1 message(s)",
                "errorCode": 0,
                "messages": [
                    {
                        "to": "0031612345678",
                        "status": "Accepted",
                        "reference": "msg-7",
                        "parts": 2,
                        "messageDetails": None,
                        "messageErrorCode": 0,
                    }
                ],
            },
        )
        result = CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-7")
        assert (result.provider_id, result.parts) == ("msg-7", 2)
        sent = responses.calls[0].request
        payload = __import__("json").loads(sent.body)
        message = payload["messages"]["msg"][0]
        assert payload["messages"]["authentication"]["producttoken"].startswith("0000")
        assert message["to"] == [{"number": "+31612345678"}] and message["maximumNumberOfMessageParts"] == 2

    @responses.activate
    @pytest.mark.parametrize("status", [500, 502, 503, 429])
    def test_server_errors_are_retried(self, status):
        responses.post(CM_URL, status=status, body="busy")
        with pytest.raises(TransientChannelError):
            CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-1")

    @responses.activate
    def test_timeout_is_retried(self):
        import requests

        responses.post(CM_URL, body=requests.Timeout("slow"))
        with pytest.raises(TransientChannelError):
            CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-1")

    @responses.activate
    def test_invalid_number_fails_and_marks_the_recipient(self):
        responses.post(
            CM_URL,
            status=400,
            json={
                "details": "Not all messages were accepted",
                "errorCode": 201,
                "messages": [
                    {
                        "to": "0031",
                        "status": "Rejected",
                        "reference": "msg-1",
                        "parts": 0,
                        "messageDetails": "Gsm '0031' is not a number.",
                        "messageErrorCode": 303,
                    }
                ],
            },
        )
        with pytest.raises(PermanentChannelError) as caught:
            CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-1")
        assert caught.value.invalid_recipient and "303" in str(caught.value)

    @responses.activate
    def test_bad_token_fails_without_retry(self):
        responses.post(
            CM_URL,
            status=400,
            json={"details": "No account found for the given authentication", "errorCode": 101, "messages": []},
        )
        with pytest.raises(PermanentChannelError):
            CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-1")

    @responses.activate
    def test_insufficient_balance_is_retried(self):
        responses.post(CM_URL, status=400, json={"details": "Insufficient balance", "errorCode": 102, "messages": []})
        with pytest.raises(TransientChannelError):
            CMSMSBackend().send(to="+31612345678", body="Hallo", reference="msg-1")


@pytest.mark.django_db
def test_daily_print_batch_merges_letters_with_a_manifest():
    world = build_world()
    claims = [open_claim(make_debtor(email="", phone=""), world) for _ in range(3)]
    plan(now=REMINDER_DAY)
    dispatch(now=REMINDER_DAY)
    batch = print_batch_create(now=REMINDER_DAY)
    assert batch is not None and batch.letters == 3
    with default_storage.open(batch.pdf_path, "rb") as handle:
        merged = PdfReader(io.BytesIO(handle.read()))
    text = "".join(page.extract_text() for page in merged.pages)
    for claim in claims:
        assert " ".join(claim.payment_reference[i : i + 4] for i in range(0, 16, 4)) in text
    with default_storage.open(batch.manifest_path, "rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    assert sorted(row["payment_reference"] for row in rows) == sorted(c.payment_reference for c in claims)
    assert sum(int(row["pages"]) for row in rows) == len(merged.pages)
    assert Message.objects.filter(print_batch=batch.name).count() == 3
    assert print_batch_create(now=REMINDER_DAY) is None  # nothing is printed twice
