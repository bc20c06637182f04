"""The citizen's payment link `/pay/<token>/`: stable in the message, a fresh iDEAL payment on the click.

Mollie's HTTP is mocked by `responses` with Mollie's own response shapes (../shared/testdata/real/mollie/).
"""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import responses
from django.conf import settings
from django.utils import timezone

from dunning.models import Claim, MolliePayment
from dunning.services.payment_links import claim_id_for_payment_token, payment_link_for, payment_token_for
from dunning.services.payments import payment_record
from tests.dunning.payment_helpers import MOLLIE_API, mollie_open_payment, mollie_paid_payment
from tests.factories import make_claim

pytestmark = pytest.mark.django_db

BASE = "https://invordering.example.nl"
CHECKOUT = "https://www.mollie.com/checkout/select-method/"


@pytest.fixture(autouse=True)
def public_base(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.fixture
def mollie_key(settings):
    settings.MOLLIE_API_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"


def path_of(claim) -> str:
    return urlsplit(payment_link_for(claim=claim)).path


def created_amounts() -> list[str]:
    posts = [call for call in responses.calls if call.request.method == "POST"]
    return [json.loads(call.request.body)["amount"]["value"] for call in posts]


@responses.activate  # any call to Mollie would fail: none may happen while rendering
def test_the_link_is_stable_short_and_holds_no_personal_data(mollie_key):
    claim = make_claim(principal=Decimal("125.00"))

    link = payment_link_for(claim=claim)

    assert link == payment_link_for(claim=claim)
    assert link.startswith(f"{BASE}/pay/") and link.endswith("/")
    token = link.removeprefix(f"{BASE}/pay/").rstrip("/")
    assert claim_id_for_payment_token(token) == claim.pk
    assert claim.payment_reference not in link and claim.debtor.surname not in link
    assert len(link) <= len(BASE) + 40  # fits an SMS
    assert len(responses.calls) == 0 and not MolliePayment.objects.exists()


def test_a_click_without_a_mollie_key_goes_to_the_municipality_page(client, settings):
    settings.MOLLIE_API_KEY = ""
    claim = make_claim(principal=Decimal("125.00"), costs_amount=Decimal("9.00"))

    response = client.get(path_of(claim))

    assert response.status_code == 302
    page = settings.MUNICIPALITY["payment_page_url"]
    assert response["Location"] == f"{page}?kenmerk={claim.payment_reference}&bedrag=134.00"
    assert "no-cache" in response["Cache-Control"] and response["Referrer-Policy"] == "no-referrer"
    assert not MolliePayment.objects.exists()


@responses.activate
def test_a_click_creates_a_mollie_payment_for_the_total_due_and_a_second_click_reuses_it(client, mollie_key):
    claim = make_claim(principal=Decimal("125.00"), costs_amount=Decimal("9.00"))
    responses.post(MOLLIE_API, json=mollie_open_payment(mollie_id="tr_first00001", amount="134.00"), status=201)

    first = client.get(path_of(claim))
    second = client.get(path_of(claim))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == CHECKOUT + "first00001"
    assert created_amounts() == ["134.00"]  # one payment at Mollie, for principal + costs
    sent = json.loads(responses.calls[0].request.body)
    assert sent["metadata"]["payment_reference"] == claim.payment_reference
    assert sent["webhookUrl"] == f"{BASE}/payments/mollie/webhook/"
    stored = MolliePayment.objects.get()
    assert (stored.claim, stored.amount, stored.status) == (claim, Decimal("134.00"), "open")


@responses.activate
def test_an_expired_or_nearly_expired_payment_is_not_handed_out_again(client, mollie_key):
    """The case the link exists for: the letter was rendered long ago; Mollie's payment lasts 15 minutes."""
    claim = make_claim(principal=Decimal("125.00"))
    now = timezone.now()
    expired = MolliePayment.objects.create(
        claim=claim,
        mollie_id="tr_expired001",
        checkout_url=CHECKOUT + "expired001",
        amount=Decimal("125.00"),
        expires_at=now - timedelta(days=3),  # created when the letter was rendered
    )
    responses.post(MOLLIE_API, json=mollie_open_payment(mollie_id="tr_nearend002", expires_in=timedelta(minutes=2)))

    assert client.get(path_of(claim))["Location"] == CHECKOUT + "nearend002"
    # Two minutes left is too little to pick a bank and confirm: the next click gets a new one.
    responses.replace(responses.POST, MOLLIE_API, json=mollie_open_payment(mollie_id="tr_fresh00003"))
    assert client.get(path_of(claim))["Location"] == CHECKOUT + "fresh00003"
    assert client.get(path_of(claim))["Location"] == CHECKOUT + "fresh00003"  # 15 minutes left: reused
    # Mollie's webhook said the fresh one expired early: it is not reused either.
    MolliePayment.objects.filter(mollie_id="tr_fresh00003").update(status="expired")
    responses.replace(responses.POST, MOLLIE_API, json=mollie_open_payment(mollie_id="tr_fourth0004"))
    assert client.get(path_of(claim))["Location"] == CHECKOUT + "fourth0004"

    assert created_amounts() == ["125.00", "125.00", "125.00"]
    assert expired.mollie_id in set(MolliePayment.objects.values_list("mollie_id", flat=True))


@responses.activate
def test_after_a_partial_payment_a_click_makes_a_payment_for_what_is_left(client, mollie_key):
    claim = make_claim(principal=Decimal("125.00"))
    responses.post(MOLLIE_API, json=mollie_open_payment(mollie_id="tr_whole00001"))
    assert client.get(path_of(claim))["Location"] == CHECKOUT + "whole00001"

    payment_record(
        source="camt053",
        external_id="bank-1",
        amount=Decimal("25.00"),
        paid_at=timezone.now(),
        reference_text=claim.payment_reference,
    )
    responses.replace(responses.POST, MOLLIE_API, json=mollie_open_payment(mollie_id="tr_rest000002", amount="100.00"))

    response = client.get(path_of(claim))

    assert response["Location"] == CHECKOUT + "rest000002"
    assert created_amounts() == ["125.00", "100.00"]
    assert MolliePayment.objects.get(mollie_id="tr_rest000002").amount == Decimal("100.00")


@responses.activate
def test_a_paid_claim_shows_a_short_page_in_dutch_then_english(client, mollie_key):
    claim = make_claim(principal=Decimal("125.00"))
    link = path_of(claim)  # as printed in the letter, before the payment
    responses.post(MOLLIE_API, json=mollie_open_payment(claim=claim))
    assert client.get(link).status_code == 302
    # The citizen pays through Mollie; Mollie calls the webhook; the claim is settled.
    responses.get(f"{MOLLIE_API}/tr_44aKxzEbr8", json=mollie_paid_payment(claim=claim, amount="125.00"))
    assert client.post("/payments/mollie/webhook/", data={"id": "tr_44aKxzEbr8"}).status_code == 200
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PAID

    response = client.get(link)

    assert response.status_code == 200
    html = response.content.decode()
    dutch, english = html.index("Deze rekening is al betaald"), html.index("This bill has already been paid")
    assert dutch < english
    assert settings.MUNICIPALITY["phone"] in html
    assert claim.payment_reference not in html and claim.debtor.surname not in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert len([c for c in responses.calls if c.request.method == "POST"]) == 1  # no new payment for a paid claim


def test_a_written_off_claim_says_nothing_is_left_to_pay(client, settings):
    settings.MOLLIE_API_KEY = ""
    claim = make_claim(status=Claim.Status.WRITTEN_OFF)
    response = client.get(path_of(claim))
    assert response.status_code == 200
    html = response.content.decode()
    assert "U hoeft voor deze rekening niets meer te betalen" in html
    assert "There is nothing left to pay on this bill" in html
    assert "al betaald" not in html


@responses.activate
def test_when_mollie_fails_the_click_goes_to_the_municipality_page(client, mollie_key):
    claim = make_claim()
    responses.post(MOLLIE_API, json={"status": 503, "title": "Service Unavailable", "detail": "down"}, status=503)
    response = client.get(path_of(claim))
    assert response.status_code == 302
    assert response["Location"].startswith(settings.MUNICIPALITY["payment_page_url"] + "?kenmerk=")
    assert not MolliePayment.objects.exists()


def test_a_tampered_or_made_up_token_is_404(client):
    claim = make_claim()
    other = make_claim()
    token = payment_token_for(claim_id=claim.pk)
    value, signature = token.split("-", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other_value = payment_token_for(claim_id=other.pk).split("-", 1)[0]
    for bad in (
        f"{value}-{flipped}",  # signature changed
        f"{other_value}-{signature}",  # another claim with this claim's signature
        value,  # no signature
        f"{value}-{signature[:-2]}",  # truncated
        "x" * 30,
    ):
        assert client.get(f"/pay/{bad}/").status_code == 404, bad
    assert client.get(f"/pay/{token}/").status_code in (200, 302)
    # Base 36 reads "Z" as "z"; only the spelling that was signed counts.
    lower = payment_token_for(claim_id=35)
    assert lower.startswith("z-") and claim_id_for_payment_token(lower) == 35
    assert claim_id_for_payment_token("Z" + lower[1:]) is None


def test_a_token_for_a_claim_that_no_longer_exists_is_404(client):
    assert client.get(f"/pay/{payment_token_for(claim_id=987654)}/").status_code == 404


def test_links_already_sent_keep_working_after_a_key_rotation(client, settings):
    settings.MOLLIE_API_KEY = ""
    claim = make_claim()
    old_link = path_of(claim)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-0123456789"
    assert path_of(claim) != old_link
    assert client.get(old_link).status_code == 302
    assert client.get(path_of(claim)).status_code == 302
    settings.SECRET_KEY_FALLBACKS = []
    assert client.get(old_link).status_code == 404


def test_only_get_and_head(client, settings):
    settings.MOLLIE_API_KEY = ""
    link = path_of(make_claim())
    assert client.head(link).status_code == 302
    assert client.post(link).status_code == 405
