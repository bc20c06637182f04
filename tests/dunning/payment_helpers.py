"""Shared helpers for the payment tests: signed API requests and planned messages."""

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from dunning.api import signature_for
from dunning.models import Message

URL = "/api/v1/payments/"


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
