"""The payments API: every status code with its exact body, and idempotency."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dunning.models import Claim, Message, Payment
from tests.dunning.payment_helpers import URL, payload, plan_message, post_signed
from tests.factories import make_claim, make_policy

pytestmark = pytest.mark.django_db


def test_it_records_a_matched_payment_with_201_and_stops_reminders(client):
    policy = make_policy()
    claim = make_claim(policy=policy, principal=Decimal("125.00"))
    message = plan_message(claim, policy.steps.first())

    response = post_signed(client, payload(reference=claim.payment_reference))

    assert response.status_code == 201
    body = response.json()
    assert body["match_status"] == "matched"
    assert body["claim_reference"] == claim.payment_reference
    assert body["amount"] == "125.00"
    claim.refresh_from_db()
    message.refresh_from_db()
    assert claim.status == Claim.Status.PAID and claim.open_amount == 0
    assert message.status == Message.Status.CANCELLED and message.cancel_reason == "paid"


def test_it_matches_a_reference_written_with_spaces(client):
    claim = make_claim()
    spaced = " ".join(claim.payment_reference[i : i + 4] for i in range(0, 16, 4))
    response = post_signed(client, payload(reference=spaced, amount="10.00"))
    assert response.status_code == 201
    claim.refresh_from_db()
    assert claim.open_amount == Decimal("115.00") and claim.status == Claim.Status.OPEN


def test_a_repeat_returns_200_with_the_same_body_and_no_second_effect(client):
    claim = make_claim(principal=Decimal("100.00"))
    data = payload(reference=claim.payment_reference, amount="30.00")
    first = post_signed(client, data)
    second = post_signed(client, data)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    claim.refresh_from_db()
    assert claim.open_amount == Decimal("70.00")
    assert Payment.objects.count() == 1


def test_an_unknown_reference_is_recorded_unmatched_with_202(client):
    response = post_signed(client, payload(reference="no such reference 123"))
    assert response.status_code == 202
    assert response.json()["match_status"] == "unmatched"
    assert response.json()["claim_reference"] is None
    assert Payment.objects.get().match_status == Payment.MatchStatus.UNMATCHED


def test_the_same_external_id_from_another_source_is_another_payment(client):
    post_signed(client, payload(source="bank-a"))
    response = post_signed(client, payload(source="bank-b"))
    assert response.status_code == 202
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", "deadbeef"],
    ids=["missing", "empty", "wrong", "other-algorithm", "no-prefix"],
)
def test_a_missing_or_wrong_signature_is_401_and_nothing_is_stored(client, signature):
    body = json.dumps(payload()).encode()
    kwargs = {} if signature is None else {"HTTP_X_SIGNATURE": signature}
    response = client.post(URL, data=body, content_type="application/json", **kwargs)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing or invalid X-Signature (sha256=<hex HMAC-SHA256 of the raw body>)."}
    assert not Payment.objects.exists()


def test_a_signature_made_with_another_secret_is_401(client):
    response = post_signed(client, payload(), secret="not-the-secret")
    assert response.status_code == 401


def test_a_body_changed_after_signing_is_401(client):
    body = json.dumps(payload()).encode()
    from django.conf import settings

    from dunning.api import signature_for

    sig = signature_for(body, settings.PAYMENTS_WEBHOOK_SECRET)
    response = post_signed(client, None, raw=body.replace(b"125.00", b"1.00"), signature=sig)
    assert response.status_code == 401


def test_without_a_configured_secret_everything_is_401(client, settings):
    body = json.dumps(payload()).encode()
    from dunning.api import signature_for

    sig = signature_for(body, "")
    settings.PAYMENTS_WEBHOOK_SECRET = ""
    response = post_signed(client, None, raw=body, signature=sig)
    assert response.status_code == 401


def test_a_body_over_16_kib_is_413(client):
    data = payload(reference="x" * (17 * 1024))
    response = post_signed(client, data)
    assert response.status_code == 413
    assert response.json() == {"error": "Body larger than 16384 bytes."}
    assert not Payment.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_invalid_json_is_400(client):
    response = post_signed(client, None, raw=b"{not json")
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": ["Not valid JSON."]}}


def test_a_json_array_is_400(client):
    response = post_signed(client, None, raw=b"[1, 2]")
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": ["Must be a JSON object."]}}


def test_an_empty_object_names_every_missing_field(client):
    response = post_signed(client, {})
    assert response.status_code == 400
    required = ["This field is required."]
    assert response.json() == {
        "errors": {
            "external_id": required,
            "reference": required,
            "source": required,
            "amount": required,
            "currency": required,
            "paid_at": required,
        }
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0.00", "Must be greater than zero."),
        ("amount", "-5.00", "Must be greater than zero."),
        ("amount", "12.345", "At most 2 decimal places."),
        ("amount", "abc", 'Must be a decimal number, e.g. "12.34".'),
        ("amount", "NaN", "Must be a finite number."),
        ("amount", "Infinity", "Must be a finite number."),
        ("amount", True, 'Must be a decimal string, e.g. "12.34".'),
        ("amount", ["1"], 'Must be a decimal string, e.g. "12.34".'),
        ("amount", "10000000000.00", "At most 9999999999.99."),
        ("amount", "1e400", "At most 9999999999.99."),
        ("currency", "USD", 'Only "EUR" is accepted.'),
        ("currency", "eur", 'Only "EUR" is accepted.'),
        ("paid_at", "yesterday", "Must be an ISO 8601 date-time, e.g. 2026-03-01T12:00:00+01:00."),
        ("paid_at", "2026-03-01T12:00:00", "Must include a time-zone offset (e.g. +01:00 or Z)."),
        ("paid_at", 1700000000, "Must be an ISO 8601 date-time string."),
        ("external_id", "", "Must not be empty."),
        ("external_id", 12, "Must be a string."),
        ("external_id", "x" * 121, "At most 120 characters."),
        ("source", "Bank X", "Use lower-case letters, digits, '.', '_' or '-' (at most 40)."),
        ("source", "mollie", "'mollie' is reserved for payments this system records itself."),
        ("reference", 5, "Must be a string."),
    ],
)
def test_each_bad_field_is_named_in_a_400(client, field, value, message):
    response = post_signed(client, payload(**{field: value}))
    assert response.status_code == 400
    assert response.json() == {"errors": {field: [message]}}
    assert not Payment.objects.exists()


def test_several_bad_fields_are_all_named(client):
    response = post_signed(client, payload(amount="-1", currency="GBP", paid_at="nope"))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"amount", "currency", "paid_at"}


def test_paid_at_in_the_future_beyond_the_skew_is_400_but_within_is_fine(client):
    far = (timezone.now() + timedelta(minutes=10)).isoformat()
    near = (timezone.now() + timedelta(minutes=2)).isoformat()
    response = post_signed(client, payload(paid_at=far))
    assert response.json() == {"errors": {"paid_at": ["Must not be in the future."]}}
    assert post_signed(client, payload(paid_at=near)).status_code == 202


def test_numbers_are_accepted_exactly_and_z_means_utc(client):
    claim = make_claim(principal=Decimal("100.00"))
    body = (
        (
            '{"external_id": "n1", "reference": "REF", "amount": 0.1, "currency": "EUR", '
            '"paid_at": "2026-03-01T12:00:00Z", "source": "bank-x"}'
        )
        .replace("REF", claim.payment_reference)
        .encode()
    )
    response = post_signed(client, None, raw=body)
    assert response.status_code == 201
    claim.refresh_from_db()
    assert claim.open_amount == Decimal("99.90")


def test_the_view_is_csrf_exempt(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post_signed(strict, payload()).status_code == 202


def test_a_matched_payment_and_its_repeat_stay_within_a_query_budget(client, django_assert_max_num_queries):
    """Per request: lock-and-find the claim (1), insert the payment already matched (1), audit it (1),
    lower and settle the claim (auditlog's read of the old row + its entry + the update: 3), cancel
    messages and withdraw proposals (2), plus savepoints. A repeat: the lock, the failed insert, the read."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.get_for_models(Payment, Claim)  # a running server has these cached
    policy = make_policy()
    claim = make_claim(policy=policy, principal=Decimal("125.00"))
    message = plan_message(claim, policy.steps.first())
    data = payload(reference=claim.payment_reference, amount="125.00")

    with django_assert_max_num_queries(12):
        first = post_signed(client, data)
    with django_assert_max_num_queries(8):
        repeat = post_signed(client, data)

    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED
    # Fewer queries, same audit trail: the payment's creation (already matched) and the claim's settlement.
    payment = Payment.objects.get()
    created = LogEntry.objects.get_for_object(payment).get()
    assert created.action == LogEntry.Action.CREATE
    assert created.changes_dict["match_status"][1] == "matched"
    assert created.changes_dict["claim"][1] == str(claim.pk)
    settled = LogEntry.objects.get_for_object(claim).get(action=LogEntry.Action.UPDATE)
    assert settled.changes_dict["status"] == ["open", "paid"]
