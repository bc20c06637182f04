"""iDEAL through Mollie, with Mollie's HTTP mocked by `responses` using Mollie's own response shapes."""

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from dunning.models import Claim, Message, MolliePayment, Payment
from dunning.services.payment_links import payment_link_for
from tests.dunning.payment_helpers import plan_message
from tests.factories import make_claim, make_policy

pytestmark = pytest.mark.django_db

REAL = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "real" / "mollie"
API = "https://api.mollie.com/v2/payments"
WEBHOOK = "/payments/mollie/webhook/"


def real(name: str):
    path = REAL / name
    if not path.exists():
        pytest.skip(f"real Mollie sample {path} is absent")
    return path.read_text()


@pytest.fixture
def mollie_key(settings):
    settings.MOLLIE_API_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
    settings.PUBLIC_BASE_URL = "https://invordering.example.nl"


def open_payment(*, mollie_id="tr_WDqYK6vllg", amount="125.00", expires_in=timedelta(minutes=15), claim=None):
    data = json.loads(real("payment_open_docs_example.json"))
    data["id"] = mollie_id
    data["amount"]["value"] = amount
    data["expiresAt"] = (timezone.now() + expires_in).isoformat()
    data["_links"]["checkout"]["href"] = f"https://www.mollie.com/checkout/select-method/{mollie_id[3:]}"
    if claim is not None:
        data["metadata"] = {"payment_reference": claim.payment_reference, "claim_id": claim.pk}
    return data


def paid_payment(*, claim=None, amount=None):
    data = json.loads(real("payment_paid.json"))
    if claim is not None:
        data["metadata"] = {"payment_reference": claim.payment_reference, "claim_id": claim.pk}
    if amount is not None:
        data["amount"]["value"] = amount
    return data


def test_without_an_api_key_the_link_is_the_municipality_page(settings):
    settings.MOLLIE_API_KEY = ""
    claim = make_claim(principal=Decimal("125.00"), costs_amount=Decimal("9.00"))
    link = payment_link_for(claim=claim)
    assert link == f"{settings.MUNICIPALITY['payment_page_url']}?kenmerk={claim.payment_reference}&bedrag=134.00"
    assert not MolliePayment.objects.exists()


@responses.activate
def test_a_mollie_payment_is_created_lazily_with_the_reference_and_reused(mollie_key):
    claim = make_claim(principal=Decimal("125.00"))
    responses.post(API, json=open_payment(claim=claim), status=201)

    first = payment_link_for(claim=claim)
    second = payment_link_for(claim=claim)

    assert first == second == "https://www.mollie.com/checkout/select-method/WDqYK6vllg"
    assert len(responses.calls) == 1
    sent = json.loads(responses.calls[0].request.body)
    assert sent["amount"] == {"currency": "EUR", "value": "125.00"}
    assert sent["metadata"]["payment_reference"] == claim.payment_reference
    assert sent["webhookUrl"] == "https://invordering.example.nl/payments/mollie/webhook/"
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {settings.MOLLIE_API_KEY}"
    stored = MolliePayment.objects.get()
    assert (stored.mollie_id, stored.amount, stored.status) == ("tr_WDqYK6vllg", Decimal("125.00"), "open")


@responses.activate
def test_a_new_payment_is_created_when_the_amount_changed_or_the_old_one_expired(mollie_key):
    claim = make_claim(principal=Decimal("125.00"))
    responses.post(API, json=open_payment(mollie_id="tr_first00001", expires_in=timedelta(seconds=-1)), status=201)
    payment_link_for(claim=claim)  # already expired on arrival
    responses.replace(responses.POST, API, json=open_payment(mollie_id="tr_second0002"), status=201)
    assert payment_link_for(claim=claim).endswith("second0002")
    claim.open_amount = Decimal("100.00")
    claim.save()
    responses.replace(responses.POST, API, json=open_payment(mollie_id="tr_third00003", amount="100.00"), status=201)
    assert payment_link_for(claim=claim).endswith("third00003")
    assert MolliePayment.objects.count() == 3


@responses.activate
def test_when_mollie_fails_the_message_still_gets_the_municipality_page(mollie_key):
    claim = make_claim()
    responses.post(API, json={"status": 503, "title": "Service Unavailable", "detail": "down"}, status=503)
    link = payment_link_for(claim=claim)
    assert link.startswith(settings.MUNICIPALITY["payment_page_url"])


@responses.activate
def test_the_webhook_fetches_the_payment_and_records_it_when_paid(client, mollie_key):
    policy = make_policy()
    claim = make_claim(policy=policy, principal=Decimal("20.00"))
    message = plan_message(claim, policy.steps.first())
    responses.get(f"{API}/tr_44aKxzEbr8", json=paid_payment(claim=claim))

    response = client.post(WEBHOOK, data={"id": "tr_44aKxzEbr8"})

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id, payment.amount) == ("mollie", "tr_44aKxzEbr8", Decimal("20.00"))
    assert payment.payer_account == "NL17RABO0213698412" and payment.payer_name == "T. TEST"
    assert payment.paid_at.isoformat() == "2018-03-19T12:18:35+00:00"
    claim.refresh_from_db()
    message.refresh_from_db()
    assert claim.status == Claim.Status.PAID
    assert message.status == Message.Status.CANCELLED and message.cancel_reason == "paid"


@responses.activate
def test_a_repeated_webhook_records_nothing_new(client, mollie_key):
    claim = make_claim(principal=Decimal("50.00"))
    responses.get(f"{API}/tr_44aKxzEbr8", json=paid_payment(claim=claim))
    client.post(WEBHOOK, data={"id": "tr_44aKxzEbr8"})
    client.post(WEBHOOK, data={"id": "tr_44aKxzEbr8"})
    claim.refresh_from_db()
    assert Payment.objects.count() == 1
    assert claim.open_amount == Decimal("30.00")


@responses.activate
def test_the_posted_body_is_never_trusted_only_the_fetched_status(client, mollie_key):
    claim = make_claim()
    body = real("webhook_post_body.txt")  # id=tr_d0b0E3EA3v, exactly as the docs show it
    mollie_id = body.split("=", 1)[1]
    responses.get(f"{API}/{mollie_id}", json={**open_payment(mollie_id=mollie_id, claim=claim), "status": "open"})

    response = client.post(WEBHOOK, data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert len(responses.calls) == 1
    assert not Payment.objects.exists()


@responses.activate
def test_the_webhook_updates_the_stored_status_of_an_expired_payment(client, mollie_key):
    claim = make_claim()
    stored = MolliePayment.objects.create(claim=claim, mollie_id="tr_WDqYK6vllg", amount=Decimal("125.00"))
    data = open_payment(claim=claim)
    data["status"] = "expired"
    responses.get(f"{API}/tr_WDqYK6vllg", json=data)
    assert client.post(WEBHOOK, data={"id": "tr_WDqYK6vllg"}).status_code == 200
    stored.refresh_from_db()
    assert stored.status == "expired"
    assert not Payment.objects.exists()


@responses.activate
def test_a_paid_payment_without_our_reference_waits_for_a_clerk(client, mollie_key):
    responses.get(f"{API}/tr_44aKxzEbr8", json=paid_payment())  # metadata {"order_id": "1234"}
    assert client.post(WEBHOOK, data={"id": "tr_44aKxzEbr8"}).status_code == 200
    assert Payment.objects.get().match_status == Payment.MatchStatus.UNMATCHED


@responses.activate
def test_an_unknown_id_answers_200_and_a_mollie_outage_503(client, mollie_key):
    responses.get(f"{API}/tr_unknown1", json={"status": 404, "title": "Not Found", "detail": "No payment"}, status=404)
    responses.get(f"{API}/tr_outage01", json={"status": 500, "title": "Error", "detail": "oops"}, status=500)
    assert client.post(WEBHOOK, data={"id": "tr_unknown1"}).status_code == 200
    assert client.post(WEBHOOK, data={"id": "tr_outage01"}).status_code == 503
    assert client.post(WEBHOOK, data={"id": "not-a-mollie-id"}).status_code == 200
    assert client.get(WEBHOOK).status_code == 405
    assert not Payment.objects.exists()
