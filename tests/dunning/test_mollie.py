"""iDEAL through Mollie, with Mollie's HTTP mocked by `responses` using Mollie's own response shapes."""

from decimal import Decimal

import pytest
import responses

from dunning.models import Claim, Message, MolliePayment, Payment
from tests.dunning.payment_helpers import (
    MOLLIE_API,
    mollie_open_payment,
    mollie_paid_payment,
    mollie_real,
    plan_message,
)
from tests.factories import make_claim, make_policy

pytestmark = pytest.mark.django_db

API = MOLLIE_API
WEBHOOK = "/payments/mollie/webhook/"
real = mollie_real
open_payment = mollie_open_payment
paid_payment = mollie_paid_payment


@pytest.fixture
def mollie_key(settings):
    settings.MOLLIE_API_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
    settings.PUBLIC_BASE_URL = "https://invordering.example.nl"


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
