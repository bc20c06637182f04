"""Shared helpers for the payment tests: signed API requests, planned messages, Mollie's real shapes."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dunning.api import signature_for
from dunning.models import Message

URL = "/api/v1/payments/"
MOLLIE_REAL = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "real" / "mollie"
MOLLIE_API = "https://api.mollie.com/v2/payments"


def payload(**overrides) -> dict:
    data = {
        "external_id": "ext-1",
        "reference": "",
        "amount": "125.00",
        "currency": "EUR",
        "paid_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "source": "bank-x",
    }
    data.update(overrides)
    return data


def post_signed(client, data, *, secret: str | None = None, raw: bytes | None = None, signature: str | None = None):
    body = raw if raw is not None else json.dumps(data).encode()
    sig = signature if signature is not None else signature_for(body, secret or settings.PAYMENTS_WEBHOOK_SECRET)
    return client.post(URL, data=body, content_type="application/json", HTTP_X_SIGNATURE=sig)


def plan_message(claim, step, *, status=Message.Status.PLANNED, channel="email", scheduled_for=None) -> Message:
    return Message.objects.create(
        claim=claim,
        step=step,
        channel=channel,
        tone=step.default_tone,
        scheduled_for=scheduled_for or timezone.now(),
        status=status,
    )


def mollie_real(name: str) -> str:
    """A real Mollie sample (`../shared/testdata/real/mollie/`); the test skips when it is absent."""
    path = MOLLIE_REAL / name
    if not path.exists():
        pytest.skip(f"real Mollie sample {path} is absent")
    return path.read_text()


def mollie_open_payment(*, mollie_id="tr_WDqYK6vllg", amount="125.00", expires_in=timedelta(minutes=15), claim=None):
    """Mollie's documented `open` payment, with our id, amount, expiry, checkout link and metadata."""
    data = json.loads(mollie_real("payment_open_docs_example.json"))
    data["id"] = mollie_id
    data["amount"]["value"] = amount
    data["expiresAt"] = (timezone.now() + expires_in).isoformat()
    data["_links"]["checkout"]["href"] = f"https://www.mollie.com/checkout/select-method/{mollie_id[3:]}"
    if claim is not None:
        data["metadata"] = {"payment_reference": claim.payment_reference, "claim_id": claim.pk}
    return data


def mollie_paid_payment(*, claim=None, amount=None):
    """Mollie's `paid` iDEAL payment (from Mollie's own client tests), optionally with our metadata."""
    data = json.loads(mollie_real("payment_paid.json"))
    if claim is not None:
        data["metadata"] = {"payment_reference": claim.payment_reference, "claim_id": claim.pk}
    if amount is not None:
        data["amount"]["value"] = amount
    return data
